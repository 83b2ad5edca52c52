// Settling: makes lazy images and frames load, then resolves once the document has gone
// `quiet` ms without a DOM mutation and at least `wait` ms have passed, or after `cap` ms, or at
// once when the page starts navigating itself away. The watcher (settle_watch.js) stays for the
// document's life, so a mutation or navigation that happens between two calls (while Python
// decides) is never missed.
// Argument: {quiet, wait, cap} in ms. Returns {navigating, quiet, mutations, waited}.
(arg) => new Promise((resolve) => {
  /*SETTLE_WATCH_JS*/
  const s = window.__boxcrawlSettle;
  // Lazy images and frames load now, while the page may still move, not when a capture
  // reaches them after the page was measured.
  for (const el of document.querySelectorAll("img[loading=lazy], iframe[loading=lazy]")) el.loading = "eager";
  s.observer.takeRecords();   // those attribute changes are ours, not the page moving
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
