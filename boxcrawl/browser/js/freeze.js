// Freezing: after this, nothing but boxcrawl changes the page until it closes. Page scripts are
// already stopped (the browser side disables script execution), so this handles what is not a
// script: CSS animations and transitions (finite ones jump to their end state, the state the page
// settles in; endless ones pause where they are), media, marquees; and the scroll position goes
// to the top left, where fixed and sticky elements are at rest and the captures expect them.
() => {
  const docs = [document];   // and every same-origin frame's, however deep
  for (let i = 0; i < docs.length; i++) {
    for (const f of docs[i].querySelectorAll("iframe, frame")) {
      try { if (f.contentDocument) docs.push(f.contentDocument); } catch (e) { /* cross-origin */ }
    }
  }
  let finished = 0, paused = 0;
  for (const doc of docs) {
    for (const a of doc.getAnimations ? doc.getAnimations() : []) {
      try {
        const end = a.effect ? a.effect.getComputedTiming().endTime : Infinity;
        if (Number.isFinite(end) && a.playbackRate >= 0) { a.finish(); finished += 1; }
        else { a.pause(); paused += 1; }
      } catch (e) { try { a.pause(); paused += 1; } catch (e2) { /* idle */ } }
    }
    for (const m of doc.querySelectorAll("video, audio")) { try { m.pause(); } catch (e) { /* detached */ } }
    for (const m of doc.querySelectorAll("marquee")) { try { m.stop(); } catch (e) { /* not a marquee */ } }
  }
  window.scrollTo({left: 0, top: 0, behavior: "instant"});
  document.documentElement.getBoundingClientRect();  // apply the new styles now
  return {finished, paused, scrollX: window.scrollX, scrollY: window.scrollY};
}
