// Settling: makes lazy images and frames load, then resolves once the document has gone `quiet` ms without a DOM mutation, or after
// `cap` ms, or at once when the page starts navigating itself away (the Navigation API's
// `navigate` event fires synchronously in the page's own timeline, so a navigation scheduled
// by the page always wins against the quiet window, whatever the machine's load).
// Argument: {quiet, cap} in ms. Returns {navigating, quiet, mutations, waited}.
(arg) => new Promise((resolve) => {
  // Lazy images and frames load now, while the page may still move, not when a capture
  // scrolls to them after it was measured.
  for (const el of document.querySelectorAll("img[loading=lazy], iframe[loading=lazy]")) el.loading = "eager";
  const started = performance.now();
  let last = started, mutations = 0, done = false;
  const observer = new MutationObserver((records) => { mutations += records.length; last = performance.now(); });
  observer.observe(document, {subtree: true, childList: true, characterData: true, attributes: true});
  const finish = (navigating, quiet) => {
    if (done) return;
    done = true;
    observer.disconnect();
    if (window.navigation) window.navigation.removeEventListener("navigate", onNavigate);
    resolve({navigating, quiet, mutations, waited: Math.round(performance.now() - started)});
  };
  const onNavigate = (event) => {
    // same-document navigations (hash, pushState) and downloads keep this document
    if (!event.destination.sameDocument && event.downloadRequest === null) finish(true, false);
  };
  if (window.navigation) window.navigation.addEventListener("navigate", onNavigate);
  const tick = () => {
    if (done) return;
    const now = performance.now();
    if (now - last >= arg.quiet) return finish(false, true);
    if (now - started >= arg.cap) return finish(false, false);
    setTimeout(tick, Math.min(25, Math.max(1, arg.quiet - (now - last))));
  };
  setTimeout(tick, Math.min(25, arg.quiet));
})
