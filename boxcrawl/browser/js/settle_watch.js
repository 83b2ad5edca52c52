// The settle watcher: the time of the document's last DOM mutation, and whether it has started
// navigating itself away. Installed once per document: from its very start in tabs (an init
// script, so the quiet time already passed when boxcrawl looks counts), else by settle.js.
// The Navigation API's `navigate` event fires synchronously in the page's own timeline: a
// navigation scheduled by the page always wins against the quiet window.
if (!window.__boxcrawlSettle && window === window.top) {
  const s = window.__boxcrawlSettle = {last: performance.now(), mutations: 0, navigating: false};
  s.observer = new MutationObserver((records) => { s.mutations += records.length; s.last = performance.now(); });
  s.observer.observe(document, {subtree: true, childList: true, characterData: true, attributes: true});
  if (window.navigation) {
    // same-document navigations (hash, pushState) and downloads keep this document
    window.navigation.addEventListener("navigate", (event) => {
      if (!event.destination.sameDocument && event.downloadRequest === null) s.navigating = true;
    });
  }
}
