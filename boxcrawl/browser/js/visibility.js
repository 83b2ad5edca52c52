// Visibility: decides, per token, whether its glyphs are painted in the full-page render.
// Spliced into measure.js (one in-page pass); `ctx` gives the measured fragments.
//
// Methods (--visibility):
//   none       only "no layout box" counts as hidden (the baseline for timing)
//   heuristic  computed style of the element chain + geometry (size, off page, clipped by
//              overflow/clip ancestors), with rule-of-thumb guesses for paint effects
//   occlusion  geometry + hit testing (elementsFromPoint) at three points inside every token
//   pixel      geometry + ink: every token is checked against two renders in Python
//   combined   heuristic + hit testing only where a positioned/stacking element overlaps the
//              token + ink check only for tokens the style cannot decide (the default)
//
// Hidden reasons: no_box, style, transparent, size, offpage, clipped, contrast, covered, and
// (from the Python ink pass) no_ink.
(ctx) => {
  const {nodes, frames, frameOffset, scrolled, pageWidth, pageHeight, mode} = ctx;  // and inkBoxes
  const useStyle = mode === "heuristic" || mode === "combined";
  const hitAll = mode === "occlusion";
  const hitNear = mode === "combined";
  const inkAll = mode === "pixel" || !!ctx.inkBoxes;   // --ink-boxes: every visible token
  const inkUnsure = mode === "combined";

  // ---------------------------------------------------------------- style helpers
  // The element whose style paints a text node (a shadow root's own text: its host).
  // (an option's text is painted by its <select>: the control's style and place decide)
  const elOf = (node) => {
    const el = node.parentElement || (node.parentNode && node.parentNode.host) || node.ownerDocument.documentElement;
    const select = el.localName === "option" || el.localName === "optgroup" ? el.closest("select") : null;
    return select || el;
  };
  const composedParent = (el) => {
    if (el.parentElement) return el.parentElement;
    const root = el.getRootNode();
    if (root && root.host) return root.host;                       // shadow root -> host
    const win = el.ownerDocument && el.ownerDocument.defaultView;
    try { return win && win.frameElement ? win.frameElement : null; } catch (e) { return null; }
  };
  const sameDocParent = (el) => {
    const p = composedParent(el);
    return p && p.ownerDocument === el.ownerDocument ? p : null;
  };
  const composedContains = (outer, el) => {
    for (let e = el; e; e = composedParent(e)) if (e === outer) return true;
    return false;
  };
  const parseColor = (color) => {
    if (!color || color === "transparent" || color === "none") return [0, 0, 0, 0];
    const m = color.match(/rgba?\(([^)]+)\)/);
    if (!m) return [0, 0, 0, 1];
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(parseFloat);
    return [p[0], p[1], p[2], p.length >= 4 ? p[3] : 1];
  };
  const alphaOf = (color) => parseColor(color)[3];
  const filterOpacity = (filter) => {
    if (!filter || filter === "none") return 1;
    let v = 1;
    for (const m of filter.matchAll(/opacity\(([\d.]+)(%?)\)/g)) v *= parseFloat(m[1]) / (m[2] ? 100 : 1);
    return v;
  };

  const opacityCache = new Map();
  const cumulativeOpacity = (el) => {
    if (!el) return 1;
    if (opacityCache.has(el)) return opacityCache.get(el);
    const cs = getComputedStyle(el);
    const own = parseFloat(cs.opacity);
    const value = (isNaN(own) ? 1 : own) * filterOpacity(cs.filter) * cumulativeOpacity(composedParent(el));
    opacityCache.set(el, value);
    return value;
  };

  // Paint effects style alone cannot judge: clip-path, masks, filters, blending, text painted by
  // background-clip:text. {unsure, clipGuess}: unsure -> ask the pixels (combined); clipGuess is
  // the heuristic's rule of thumb (clip-path inset >= 50% or a zero circle hides).
  const effectsCache = new Map();
  const paintEffects = (el) => {
    if (!el) return {unsure: false, clipGuess: false, bgText: null};
    if (effectsCache.has(el)) return effectsCache.get(el);
    const cs = getComputedStyle(el);
    const up = paintEffects(composedParent(el));
    let unsure = up.unsure, clipGuess = up.clipGuess, bgText = up.bgText;
    if (cs.clipPath && cs.clipPath !== "none") {
      unsure = true;
      const inset = cs.clipPath.match(/^inset\(\s*([\d.]+)%/);
      if ((inset && parseFloat(inset[1]) >= 50) || /^circle\(0(px)?[ )]/.test(cs.clipPath)) clipGuess = true;
    }
    const mask = cs.maskImage || cs.webkitMaskImage;
    if ((mask && mask !== "none") || (cs.webkitMaskImage && cs.webkitMaskImage !== "none")) unsure = true;
    if (cs.filter && cs.filter !== "none" && !/^(opacity\([^)]*\)\s*)+$/.test(cs.filter)) unsure = true;
    if (cs.mixBlendMode && cs.mixBlendMode !== "normal") unsure = true;
    const clip = cs.webkitBackgroundClip || cs.backgroundClip;
    if (clip && clip.includes("text")) { unsure = true; bgText = el; }
    const value = {unsure, clipGuess, bgText};
    effectsCache.set(el, value);
    return value;
  };

  // The colour behind an element's text, from its ancestors' backgrounds; null when an image
  // or gradient is involved (then only pixels can tell).
  const bgCache = new Map();
  const backgroundOf = (el) => {
    if (!el) return [255, 255, 255];
    if (bgCache.has(el)) return bgCache.get(el);
    const cs = getComputedStyle(el);
    let value;
    if (cs.backgroundImage && cs.backgroundImage !== "none") value = null;
    else {
      const c = parseColor(cs.backgroundColor);
      value = c[3] >= 0.99 ? c.slice(0, 3) : backgroundOf(composedParent(el));
    }
    bgCache.set(el, value);
    return value;
  };

  // {reason, unsure}: reason is the heuristic's verdict for text whose parent is `el`.
  const styleCache = new Map();
  const styleInfo = (el) => {
    if (styleCache.has(el)) return styleCache.get(el);
    const cs = getComputedStyle(el);
    let info;
    if (cs.visibility !== "visible" ||
        (el.checkVisibility && !el.checkVisibility({contentVisibilityAuto: false}))) {
      info = {reason: "style", unsure: false};     // also content-visibility:hidden, closed <details>
    }
    else if (cumulativeOpacity(el) < 0.1) info = {reason: "transparent", unsure: false};
    else {
      const svg = el instanceof SVGElement;
      const ink = svg ? parseColor(cs.fill) : parseColor(cs.webkitTextFillColor);
      const strokeInk = svg ? (cs.stroke !== "none" && parseFloat(cs.strokeWidth) > 0 ? alphaOf(cs.stroke) : 0)
        : (parseFloat(cs.webkitTextStrokeWidth) > 0 ? alphaOf(cs.webkitTextStrokeColor) : 0);
      const shadowInk = cs.textShadow && cs.textShadow !== "none" && !/^(rgba\([^)]*,\s*0\)[^,]*,?\s*)+$/.test(cs.textShadow);
      const fx = paintEffects(el);
      if (ink[3] < 0.1 && strokeInk < 0.1 && !shadowInk && !fx.bgText) {
        info = {reason: "transparent", unsure: false};
      } else if (ink[3] < 0.1) {
        info = {reason: "", unsure: true};                  // painted by stroke, shadow or background
      } else {
        info = {reason: fx.clipGuess ? "clipped" : "", unsure: fx.unsure};
        if (!svg && !info.reason) {
          const bg = backgroundOf(el);
          if (bg === null) info.unsure = true;
          else {
            const a = ink[3] * cumulativeOpacity(el);
            const diff = Math.max(...[0, 1, 2].map((k) => Math.abs(ink[k] * a + bg[k] * (1 - a) - bg[k])));
            if (diff < 24) info = {reason: "contrast", unsure: true};
          }
        }
      }
    }
    styleCache.set(el, info);
    return info;
  };

  // ---------------------------------------------------------------- clipping geometry
  const INF = 1e9;
  const intersect = (a, b) => !a ? b : !b ? a :
    [Math.max(a[0], b[0]), Math.max(a[1], b[1]), Math.min(a[2], b[2]), Math.min(a[3], b[3])];
  const ownClipCache = new Map();
  const ownClip = (el) => {     // what `el` clips its content to (client coords), or null
    if (ownClipCache.has(el)) return ownClipCache.get(el);
    const cs = getComputedStyle(el);
    let clip = null;
    const cx = cs.overflowX !== "visible", cy = cs.overflowY !== "visible";
    const paint = /paint|strict|content/.test(cs.contain || "");
    if (cx || cy || paint) {
      const r = el.getBoundingClientRect();
      const l = r.left + el.clientLeft, t = r.top + el.clientTop;
      const w = el.clientWidth || (cs.display === "inline" ? r.width : 0);
      const h = el.clientHeight || (cs.display === "inline" ? r.height : 0);
      clip = [cx || paint ? l : -INF, cy || paint ? t : -INF, cx || paint ? l + w : INF, cy || paint ? t + h : INF];
    }
    if (cs.clip && cs.clip !== "auto" && (cs.position === "absolute" || cs.position === "fixed")) {
      const m = cs.clip.match(/rect\(([^)]*)\)/);
      if (m) {
        const r = el.getBoundingClientRect();
        const v = m[1].split(/[ ,]+/).map((x) => (x === "auto" ? null : parseFloat(x)));
        clip = intersect(clip, [r.left + (v[3] ?? -INF), r.top + (v[0] ?? -INF),
                                r.left + (v[1] ?? INF), r.top + (v[2] ?? INF)]);
      }
    }
    ownClipCache.set(el, clip);
    return clip;
  };
  const clipForCache = new Map();
  const clipFor = (el) => {     // the clip ancestors apply to `el` (containing-block chain)
    if (clipForCache.has(el)) return clipForCache.get(el);
    const pos = getComputedStyle(el).position;
    let p = null;
    if (pos === "absolute") {
      for (p = sameDocParent(el); p; p = sameDocParent(p)) {
        const pcs = getComputedStyle(p);
        if (pcs.position !== "static" || pcs.transform !== "none") break;
      }
    } else if (pos !== "fixed") p = sameDocParent(el);
    const clip = p ? intersect(ownClip(p), clipFor(p)) : null;
    clipForCache.set(el, clip);
    return clip;
  };
  const clippedAway = (el, frame, box) => {  // box in client coords of el's document
    let clip = intersect(ownClip(el), clipFor(el));
    if (frame) {
      const win = el.ownerDocument.defaultView;
      clip = intersect(clip, [0, 0, win.innerWidth, win.innerHeight]);
    }
    if (!clip) return false;
    const w = Math.max(0, Math.min(box[2], clip[2]) - Math.max(box[0], clip[0]));
    const h = Math.max(0, Math.min(box[3], clip[3]) - Math.max(box[1], clip[1]));
    return w * h < 0.5 * (box[2] - box[0]) * (box[3] - box[1]);
  };

  // ---------------------------------------------------------------- occluders
  // Only positioned elements and stacking contexts paint above in-flow text; in-flow block
  // backgrounds paint below all in-flow text. So text needs hit testing only where such an
  // element (not its own ancestor, unless that ancestor has a positioned ::before/::after)
  // overlaps it, or when it sits in a negative z-index layer.
  const BUCKET = 256;
  // Huge DOMs (100k+ elements) make every per-element style read add up to many seconds:
  // bound the occluder scan and the style pass; tokens after the budget get geometry only
  // (counted in hitTestsSkipped with the hit tests the budget skipped).
  const SCAN_BUDGET_MS = 1500, STYLE_BUDGET_MS = 3000;
  let occluders = null;
  const negZ = new Set();
  const peFixed = [];
  const scanOccluders = () => {
    occluders = new Map();
    const roots = [document];
    const started = performance.now();
    let seen = 0;
    for (let k = 0; k < roots.length; k++) {
      for (const el of roots[k].querySelectorAll("*")) {
        if ((++seen & 1023) === 0 && performance.now() - started > SCAN_BUDGET_MS) return;  // huge DOM
        if (el.shadowRoot) roots.push(el.shadowRoot);
        const cs = getComputedStyle(el);
        const positioned = cs.position !== "static";
        if (!positioned && cs.transform === "none" && cs.opacity === "1" && cs.filter === "none" &&
            cs.zIndex === "auto") continue;
        if (positioned && cs.zIndex !== "auto" && parseInt(cs.zIndex, 10) < 0) negZ.add(el);
        const r = el.getBoundingClientRect();
        if (r.width <= 0 || r.height <= 0 || cs.visibility === "hidden" || cs.display === "none") continue;
        let pseudo = false;
        if (positioned) {
          for (const which of ["::before", "::after"]) {
            const ps = getComputedStyle(el, which);
            if (ps.content !== "none" && (ps.position === "absolute" || ps.position === "fixed")) pseudo = true;
          }
        }
        const [ox, oy] = frameOffset(null);
        const occ = {el, box: [r.left + ox, r.top + oy, r.right + ox, r.bottom + oy], pseudo, pe: cs.pointerEvents};
        for (let b = Math.floor(occ.box[1] / BUCKET); b <= Math.floor(occ.box[3] / BUCKET); b++) {
          if (!occluders.has(b)) occluders.set(b, []);
          occluders.get(b).push(occ);
        }
      }
    }
  };
  const negZCache = new Map();
  const inNegZ = (el) => {
    if (!el || negZ.size === 0) return false;
    if (negZCache.has(el)) return negZCache.get(el);
    const v = negZ.has(el) || inNegZ(sameDocParent(el));
    negZCache.set(el, v);
    return v;
  };
  const overlapped = (el, box) => {
    if (inNegZ(el)) return true;
    const seen = new Set();
    for (let b = Math.floor(box[1] / BUCKET); b <= Math.floor(box[3] / BUCKET); b++) {
      for (const occ of occluders.get(b) || []) {
        if (seen.has(occ)) continue;
        seen.add(occ);
        const o = occ.box;
        if (o[0] >= box[2] || o[2] <= box[0] || o[1] >= box[3] || o[3] <= box[1]) continue;
        if (occ.el === el) continue;
        if (composedContains(occ.el, el) && !occ.pseudo) continue;
        return true;
      }
    }
    return false;
  };
  // Hit testing skips pointer-events:none, which overlays often use: let them be hit while testing.
  const letOverlaysBeHit = () => {
    for (const list of occluders.values()) {
      for (const occ of list) {
        if (occ.pe !== "none" || occ.fixedPe) continue;
        occ.fixedPe = true;
        peFixed.push([occ.el, occ.el.style.getPropertyValue("pointer-events"),
                      occ.el.style.getPropertyPriority("pointer-events")]);
        occ.el.style.setProperty("pointer-events", "auto", "important");
      }
    }
  };
  const restoreOverlays = () => {
    for (const [el, value, priority] of peFixed) {
      if (value) el.style.setProperty("pointer-events", value, priority);
      else el.style.removeProperty("pointer-events");
    }
  };

  // ---------------------------------------------------------------- hit testing
  const REPLACED = new Set(["img", "video", "canvas", "iframe", "embed", "object", "input", "textarea",
                            "select", "button", "rect", "path", "circle", "ellipse", "polygon", "image"]);
  const opaqueCache = new Map();
  const paintsOpaque = (h) => {
    if (opaqueCache.has(h)) return opaqueCache.get(h);
    const cs = getComputedStyle(h);
    const op = cumulativeOpacity(h);
    let v = false;
    if (REPLACED.has(h.localName)) v = op >= 0.5 && (!(h instanceof SVGElement) || alphaOf(cs.fill) * op >= 0.5);
    else if (alphaOf(cs.backgroundColor) * op >= 0.5) v = true;
    else if (cs.backgroundImage && cs.backgroundImage !== "none" && op >= 0.5) v = true;
    opaqueCache.set(h, v);
    return v;
  };
  const pseudoCache = new Map();
  const pseudoCovers = (h) => {
    if (pseudoCache.has(h)) return pseudoCache.get(h);
    let v = false;
    for (const which of ["::before", "::after"]) {
      const ps = getComputedStyle(h, which);
      if (ps.content === "none") continue;
      if (alphaOf(ps.backgroundColor) >= 0.5 || (ps.backgroundImage && ps.backgroundImage !== "none") ||
          /url\(/.test(ps.content)) v = true;
    }
    pseudoCache.set(h, v);
    return v;
  };
  // Walk the hit stack from the top: the text shows if we reach its element (or, when its element
  // is not hit-testable, its ancestors) before anything opaque.
  // Hit tests only reach the viewport, so tokens below or right of it are tested with the window
  // scrolled to them (synchronously: page scripts are stopped and never see it). A fixed or
  // sticky element then sits where it does not at rest, where the captures see the page: such
  // "anchored" elements are ignored as occluders while the window is scrolled.
  const anchoredCache = new Map();
  const anchored = (el) => {
    if (!el || el.nodeType !== 1) return false;
    if (anchoredCache.has(el)) return anchoredCache.get(el);
    const pos = getComputedStyle(el).position;
    const v = pos === "fixed" || pos === "sticky" || anchored(sameDocParent(el));
    anchoredCache.set(el, v);
    return v;
  };
  const view = {x: 0, y: 0, w: window.innerWidth, h: window.innerHeight};
  const inView = (f) => f[0] >= view.x - 0.5 && f[2] <= view.x + view.w + 0.5 &&
                        f[1] >= view.y - 0.5 && f[3] <= view.y + view.h + 0.5;
  const scrollTo = (left, top) => {
    if (left === view.x && top === view.y) return;
    window.scrollTo({left, top, behavior: "instant"});
    view.x = window.scrollX; view.y = window.scrollY;
    scrolled();   // frameOffset(null) follows the window
  };
  // Scroll so the top document's page box `f` is in the viewport (an anchored token moves with
  // the window: it stays at the top-left scroll, where it rests); false when it is not in view
  // then (e.g. overflow: hidden on the root) and hit testing cannot see it.
  const bringIntoView = (f, anchoredToken) => {
    if (anchoredToken) scrollTo(0, 0);
    else if (!inView(f)) {
      scrollTo(f[2] <= view.w ? 0 : Math.max(0, Math.floor(f[0]) - 8),
               f[3] <= view.h ? 0 : Math.max(0, Math.floor(f[1]) - 8));
    }
    return inView(f);
  };
  const seesText = (stack, textEls, el) => {
    const peNone = getComputedStyle(el).pointerEvents === "none";
    const away = view.x !== 0 || view.y !== 0;   // scrolled from the top-left
    for (const h of stack) {
      if (textEls.has(h)) return true;
      if (away && anchored(h) && !composedContains(h, el)) continue;
      if (composedContains(h, el)) {
        if (peNone) return true;
        if (pseudoCovers(h)) return false;
        continue;
      }
      if (paintsOpaque(h)) return false;
    }
    return false;
  };
  const framesHit = (frame) => {      // every iframe on the way up must itself be what is painted
    for (let f = frame; f; f = f.parent) {
      const r = f.element.getBoundingClientRect();
      const hit = f.element.ownerDocument.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      if (hit !== f.element) return false;
    }
    return true;
  };
  const frameHitCache = new Map();
  // Hit testing costs up to milliseconds per call on big DOMs in a page-tall viewport; stop after
  // HIT_BUDGET_MS: later tokens are judged without it and counted in hitTestsSkipped.
  const HIT_BUDGET_MS = 4000;
  let hitMs = 0, hitTestsSkipped = 0;
  const hitVisible = (node, frame, textEls, cb) => {
    if (hitMs > HIT_BUDGET_MS) { hitTestsSkipped += 1; return true; }
    const started = performance.now();
    const root = node.getRootNode();
    const hitter = typeof root.elementsFromPoint === "function" ? root : node.ownerDocument;
    const el = elOf(node);
    let votes = 0;
    const y = (cb[1] + cb[3]) / 2;
    for (const fx of [0.25, 0.5, 0.75]) {
      if (seesText(hitter.elementsFromPoint(cb[0] + fx * (cb[2] - cb[0]), y), textEls, el)) votes += 1;
    }
    let ok = votes >= 2;
    if (ok && frame) {
      if (!frameHitCache.has(frame)) frameHitCache.set(frame, framesHit(frame));
      ok = frameHitCache.get(frame);
    }
    hitMs += performance.now() - started;
    return ok;
  };

  // Pixel method: a token whose box overlaps another text's box cannot tell its ink from the
  // other's in the diff; hit testing resolves which text is on top there.
  let textGrid = null;
  const overlapsOtherText = (t, fragments) => {
    for (const f of fragments) {
      for (let b = Math.floor(f[1] / BUCKET); b <= Math.floor(f[3] / BUCKET); b++) {
        for (const [u, g] of textGrid.get(b) || []) {
          if (u === t || elOf(nodes[g[4]]) === elOf(nodes[f[4]])) continue;
          const w = Math.min(f[2], g[2]) - Math.max(f[0], g[0]), h = Math.min(f[3], g[3]) - Math.max(f[1], g[1]);
          if (w > 1 && h > 1) return true;
        }
      }
    }
    return false;
  };
  const buildTextGrid = (tokens) => {
    textGrid = new Map();
    tokens.forEach(({fragments}, t) => {
      for (const f of fragments) {
        for (let b = Math.floor(f[1] / BUCKET); b <= Math.floor(f[3] / BUCKET); b++) {
          if (!textGrid.has(b)) textGrid.set(b, []);
          textGrid.get(b).push([t, f]);
        }
      }
    });
  };

  // ---------------------------------------------------------------- the decision
  // tokens: [{fragments: [[x0, y0, x1, y1, nodeIndex], ...] in page px, nodeIndexes: [...]}]
  const decide = (tokens) => {
    const hidden = new Array(tokens.length).fill("");
    const inkCheck = [];
    const needsHits = [];
    if (hitNear) scanOccluders();
    if (inkAll) buildTextGrid(tokens);
    const styleStarted = performance.now();
    let styleOn = useStyle;
    for (let t = 0; t < tokens.length; t++) {
      const {fragments, nodeIndexes} = tokens[t];
      if (!fragments.length) { hidden[t] = "no_box"; continue; }
      if (mode === "none") continue;
      let reason = "", unsure = false;
      for (const f of fragments) {
        if (f[2] - f[0] < 1 || f[3] - f[1] < 1) { reason = "size"; break; }
        const cx = (f[0] + f[2]) / 2, cy = (f[1] + f[3]) / 2;
        if (cx < 0 || cy < 0 || cx > pageWidth || cy > pageHeight) { reason = "offpage"; break; }
      }
      if (styleOn && (t & 255) === 0 && performance.now() - styleStarted > STYLE_BUDGET_MS) styleOn = false;
      if (useStyle && !styleOn) hitTestsSkipped += 1;
      if (!reason && styleOn) {
        for (const i of nodeIndexes) {
          const info = styleInfo(elOf(nodes[i]));
          if (info.reason && !(inkUnsure && info.unsure)) { reason = info.reason; break; }
          unsure = unsure || info.unsure;
        }
        if (!reason) {
          for (const f of fragments) {
            const node = nodes[f[4]], [ox, oy] = frameOffset(frames[f[4]]);
            if (clippedAway(elOf(node), frames[f[4]], [f[0] - ox, f[1] - oy, f[2] - ox, f[3] - oy])) {
              reason = "clipped";
              break;
            }
          }
        }
      }
      if (reason) { hidden[t] = reason; continue; }
      if (hitAll) needsHits.push(t);
      else if (hitNear) {
        for (const f of fragments) {
          if (frames[f[4]] || overlapped(elOf(nodes[f[4]]), f)) { needsHits.push(t); break; }
        }
        // hit testing gets layers below in-flow backgrounds wrong: let the pixels decide
        if (fragments.some((f) => inNegZ(elOf(nodes[f[4]])))) unsure = true;
      } else if (inkAll && overlapsOtherText(t, fragments)) needsHits.push(t);
      if (inkAll || (inkUnsure && unsure)) inkCheck.push(t);
    }
    if (needsHits.length) {
      if (occluders === null) scanOccluders();
      letOverlaysBeHit();
      // top to bottom, so the window scrolls once per viewport-sized band
      needsHits.sort((a, b) => tokens[a].fragments[0][1] - tokens[b].fragments[0][1]);
      try {
        for (const t of needsHits) {
          const {fragments, nodeIndexes} = tokens[t];
          const textEls = new Set(nodeIndexes.map((i) => elOf(nodes[i])));
          const f = fragments[0];
          const node = nodes[f[4]], frame = frames[f[4]];
          if (!bringIntoView(f, anchored(elOf(node)) || (frame && anchored(frame.element)))) {
            hitTestsSkipped += 1;   // the pixels still check it
            continue;
          }
          // page -> client: the top document's offset is the window's scroll (kept current by
          // scrollTo); a frame's own client space does not move when the top document scrolls
          const [ox, oy] = frameOffset(frame);
          if (!hitVisible(node, frame, textEls, [f[0] - ox, f[1] - oy, f[2] - ox, f[3] - oy])) {
            hidden[t] = "covered";
          }
        }
      } finally {
        restoreOverlays();
        scrollTo(0, 0);
      }
    }
    // the ink pass turns off the paint of exactly these elements' text
    const inkElements = new Set();
    for (const t of inkCheck) {
      if (hidden[t]) continue;
      for (const i of tokens[t].nodeIndexes) {
        const el = elOf(nodes[i]);
        if (!el) continue;
        inkElements.add(el);
        const bgText = paintEffects(el).bgText;
        if (bgText) inkElements.add(bgText);
      }
    }
    return {hidden, inkCheck: inkCheck.filter((t) => !hidden[t]), inkElements: [...inkElements], hitTestsSkipped};
  };
  return {decide};
}
