// Settling: makes lazy images and frames load, then resolves once the document has gone
// `quiet` ms without a DOM mutation and at least `wait` ms have passed, or after `cap` ms, or at
// once when the page starts navigating itself away. The observer and the navigation listener
// are installed once per document and stay, so a mutation or navigation that happens between
// two calls (while Python decides) is never missed. The Navigation API's `navigate` event fires
// synchronously in the page's own timeline: a navigation scheduled by the page always wins
// against the quiet window, whatever the machine's load.
// Argument: {quiet, wait, cap} in ms. Returns {navigating, quiet, mutations, waited}.
(arg) => new Promise((resolve) => {
  // Lazy images and frames load now, while the page may still move, not when a capture
  // reaches them after the page was measured.
  for (const el of document.querySelectorAll("img[loading=lazy], iframe[loading=lazy]")) el.loading = "eager";
  let s = window.__boxcrawlSettle;
  if (!s) {
    s = window.__boxcrawlSettle = {last: performance.now(), mutations: 0, navigating: false};
    new MutationObserver((records) => { s.mutations += records.length; s.last = performance.now(); })
      .observe(document, {subtree: true, childList: true, characterData: true, attributes: true});
    if (window.navigation) {
      // same-document navigations (hash, pushState) and downloads keep this document
      window.navigation.addEventListener("navigate", (event) => {
        if (!event.destination.sameDocument && event.downloadRequest === null) s.navigating = true;
      });
    }
  }
  const started = performance.now();
  const tick = () => {
    const now = performance.now();
    const done = (quiet) => resolve({navigating: s.navigating, quiet, mutations: s.mutations,
                                     waited: Math.round(now - started)});
    if (s.navigating) return done(false);
    if (now - s.last >= arg.quiet && now - started >= arg.wait) return done(true);
    if (now - started >= arg.cap) return done(false);
    setTimeout(tick, Math.max(1, Math.min(25, arg.quiet - (now - s.last), arg.wait - (now - started))));
  };
  setTimeout(tick, Math.max(1, Math.min(25, arg.quiet, arg.wait)));
})
