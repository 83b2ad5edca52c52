// The document's declared language (<html lang>, or xml:lang) and, for --lang, its visible text and
// its links. Evaluated in an isolated world: the page's own scripts cannot change what is read.
((wantText, maxChars) => {
  const root = document.documentElement;
  let lang = root ? root.getAttribute("lang") : null;
  if (lang === null && root) lang = root.getAttributeNS("http://www.w3.org/XML/1998/namespace", "lang");
  if (!wantText) return {lang};
  const body = document.body || root;
  // innerText: the text as rendered (no script, style or display:none content)
  const text = !body ? "" : typeof body.innerText === "string" ? body.innerText : body.textContent || "";
  const links = new Set();
  const collect = (node) => {
    for (const a of node.querySelectorAll("a[href], area[href]")) {
      if (typeof a.href === "string" && a.href) links.add(a.href);
    }
    for (const el of node.querySelectorAll("*")) if (el.shadowRoot) collect(el.shadowRoot);
  };
  collect(document);
  return {lang, text: text.slice(0, maxChars).toWellFormed(), links: [...links].map((s) => s.toWellFormed())};
})
