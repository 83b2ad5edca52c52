// Collects every text node of the page, in document order, into one page text.
// Runs once per page, after load and after the viewport covers the page.
//
// Walks light DOM, open shadow roots and same-origin iframes. Text nodes are
// joined with "" inside the same inline formatting run ("<b>Hel</b>lo" stays
// one word) and with "\n" across block boundaries, line breaks and replaced
// elements, so a tokenizer never glues words from different blocks together.
// The nodes and their [start, end) offsets (UTF-16, like JS strings) are kept on window so
// the measuring pass can map token spans back to Ranges without another walk.
() => {
  const SKIP = new Set(["script", "style", "noscript", "template", "head", "title", "meta", "link"]);
  const BREAKING = new Set(["br", "hr", "img", "input", "select", "textarea", "button", "video",
    "audio", "canvas", "object", "embed", "svg", "math", "iframe", "frame", "td", "th", "li"]);
  const BREAK = {};  // stack marker: leaving a block element
  const nodes = [], starts = [], ends = [], frames = [];
  const parts = [];
  let length = 0, pendingBreak = false, elements = 0, crossOriginFrames = 0;

  const isBoundary = (el) => {
    const cs = getComputedStyle(el);
    // content-visibility: auto skips laying out what is off screen until it is scrolled to;
    // lay it out now, so the layout measured is the one every capture sees
    if (cs.contentVisibility === "auto") el.style.setProperty("content-visibility", "visible", "important");
    if (BREAKING.has(el.localName)) return true;
    const display = cs.display;
    return !(display.startsWith("inline") || display === "contents" || display === "ruby" ||
             display.startsWith("ruby-"));
  };

  const addText = (node, frame) => {
    const data = node.data;
    if (!data) return;
    if (pendingBreak && length > 0) { parts.push("\n"); length += 1; }
    pendingBreak = false;
    nodes.push(node); starts.push(length); frames.push(frame);
    parts.push(data); length += data.length; ends.push(length);
  };

  const walk = (root, frame) => {
    const stack = [[root, frame]];
    while (stack.length) {
      const [node, fr] = stack.pop();
      if (node === BREAK) { pendingBreak = true; continue; }
      const type = node.nodeType;
      if (type === 3) { addText(node, fr); continue; }
      if (type !== 1 && type !== 9 && type !== 11) continue;
      let kids = node.childNodes;
      if (type === 1) {
        elements += 1;
        const tag = node.localName;
        if (SKIP.has(tag)) continue;
        if (isBoundary(node)) { pendingBreak = true; stack.push([BREAK, fr]); }
        if (tag === "iframe" || tag === "frame") {
          let doc = null;
          try { doc = node.contentDocument; } catch (e) { doc = null; }
          if (doc && doc.documentElement) stack.push([doc.documentElement, {element: node, parent: fr}]);
          else crossOriginFrames += 1;
          continue;
        }
        if (node.shadowRoot) {
          // The shadow tree is what renders; light children show only where slotted,
          // and then the visibility pass decides.
          kids = [...node.shadowRoot.childNodes, ...node.childNodes];
        }
      }
      for (let i = kids.length - 1; i >= 0; i--) stack.push([kids[i], fr]);
    }
  };

  walk(document.documentElement, null);

  // Links: a[href]/area[href] everywhere the walk went; el.href is already
  // resolved against the document's base URL.
  const links = new Set();
  const collectLinks = (root) => {
    for (const a of root.querySelectorAll("a[href], area[href]")) {
      if (typeof a.href === "string" && a.href) links.add(a.href);
    }
    for (const el of root.querySelectorAll("*")) {
      if (el.shadowRoot) collectLinks(el.shadowRoot);
    }
  };
  const seenDocs = new Set();
  for (const fr of [null, ...frames]) {
    const doc = fr ? fr.element.contentDocument : document;
    if (doc && !seenDocs.has(doc)) { seenDocs.add(doc); collectLinks(doc); }
  }

  window.__boxcrawl = {nodes, starts, ends, frames};
  const root = document.documentElement;
  // A script can put lone UTF-16 surrogates in text; U+FFFD in their place keeps every offset
  // (one code unit for one) and makes the text valid UTF-8 in every file it is written to.
  const wellFormed = (s) => s.toWellFormed();
  return {
    text: wellFormed(parts.join("")),
    links: [...links].map(wellFormed),
    elements,
    crossOriginFrames,
    width: Math.max(root.scrollWidth, document.body ? document.body.scrollWidth : 0),
    height: Math.max(root.scrollHeight, document.body ? document.body.scrollHeight : 0),
  };
}
