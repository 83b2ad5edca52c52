// The ink pass's page side (the page is already frozen: browser/js/freeze.js). "off": stop
// painting the text of the elements measure.js listed (colour, fill, stroke, shadow, decoration,
// background-clip:text backgrounds) with inline !important styles: paint-only properties, so the
// layout stays exactly as measured, and inline styles reach into shadow roots and iframes where a
// document stylesheet would not. "on": restore the inline styles.
(action) => {
  const state = window.__boxcrawl;
  const OFF = {"color": "transparent", "-webkit-text-fill-color": "transparent", "text-shadow": "none",
               "-webkit-text-stroke-color": "transparent", "text-decoration-color": "transparent",
               "caret-color": "transparent", "fill": "transparent", "stroke": "transparent",
               "background-image": "none", "background-color": "transparent"};
  const BG = new Set(["background-image", "background-color"]);
  if (action === "off") {
    state.inkSaved = [];
    for (const el of state.inkElements || []) {
      if (!el.style) continue;
      state.inkSaved.push([el, el.getAttribute("style")]);
      const clipsText = /text/.test(getComputedStyle(el).webkitBackgroundClip || "");
      for (const [prop, value] of Object.entries(OFF)) {
        if (BG.has(prop) && !clipsText) continue;
        el.style.setProperty(prop, value, "important");
      }
    }
  } else if (action === "on") {
    for (const [el, style] of state.inkSaved || []) {
      if (style === null) el.removeAttribute("style"); else el.setAttribute("style", style);
    }
    state.inkSaved = [];
  }
  document.documentElement.getBoundingClientRect();  // apply the style change now
  return (state.inkElements || []).length;
}
