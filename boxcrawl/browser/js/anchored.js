// Captures scroll the window to what they capture. Fixed and sticky elements of the top document
// would then paint where they never are at rest (over the text of every band): "hide" makes them
// transparent (opacity, a paint-only property: the layout stays as measured), "show" restores them.
(action) => {
  const state = window.__boxcrawl || (window.__boxcrawl = {});
  if (action === "hide") {
    if (state.anchoredSaved) return state.anchoredSaved.length;
    state.anchoredSaved = [];
    for (const el of document.querySelectorAll("*")) {
      const pos = getComputedStyle(el).position;
      if (pos !== "fixed" && pos !== "sticky") continue;
      state.anchoredSaved.push([el, el.style.getPropertyValue("opacity"), el.style.getPropertyPriority("opacity")]);
      el.style.setProperty("opacity", "0", "important");
    }
    return state.anchoredSaved.length;
  }
  for (const [el, value, priority] of state.anchoredSaved || []) {
    if (value) el.style.setProperty("opacity", value, priority); else el.style.removeProperty("opacity");
  }
  state.anchoredSaved = null;
  return 0;
}
