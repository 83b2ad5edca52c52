// Measures every token of the page in one pass: token spans (UTF-16 offsets in
// the page text built by collect_text.js) -> Ranges -> one box per line
// fragment (Range.getClientRects, never the union rect) -> visibility.
//
// Argument: JSON of {spans: [start0, end0, start1, end1, ...], width, height}
// Returns:  JSON of {boxes: [[x0, y0, x1, y1, x0, y0, ...] per token], hidden: [reason or "" per token],
//                     hitTestsSkipped}
// Boxes are page CSS px: relative to the top-left of the top document.
(argJson) => {
  const arg = JSON.parse(argJson);
  const state = window.__boxcrawl;
  if (!state) throw new Error("boxcrawl: collect_text.js has not run in this document");
  const {nodes, starts, ends, frames} = state;  // node.data would copy the text on every read
  const {spans, width: pageWidth, height: pageHeight} = arg;
  const round = (v) => Math.round(v * 100) / 100;

  // ---- frame offsets: a same-origin iframe's client coordinates -> page coordinates
  const frameOffsets = new Map();
  const frameOffset = (frame) => {
    if (!frame) return [window.scrollX, window.scrollY];
    if (frameOffsets.has(frame)) return frameOffsets.get(frame);
    const [px, py] = frameOffset(frame.parent);
    const el = frame.element, r = el.getBoundingClientRect(), cs = getComputedStyle(el);
    const off = [px + r.left + el.clientLeft + parseFloat(cs.paddingLeft || "0"),
                 py + r.top + el.clientTop + parseFloat(cs.paddingTop || "0")];
    frameOffsets.set(frame, off);
    return off;
  };

  // ---- visibility (first version): the one place that decides.
  // A token is hidden when its text's element is not visible by computed style,
  // fully transparent, zero-sized, off the rendered page, or covered at its centre.
  const composedParent = (el) => {
    if (el.parentElement) return el.parentElement;
    const root = el.getRootNode();
    if (root && root.host) return root.host;                       // shadow root -> host
    const win = el.ownerDocument && el.ownerDocument.defaultView;
    try { return win && win.frameElement ? win.frameElement : null; } catch (e) { return null; }
  };
  const opacityCache = new Map();
  const cumulativeOpacity = (el) => {
    if (!el) return 1;
    if (opacityCache.has(el)) return opacityCache.get(el);
    const own = parseFloat(getComputedStyle(el).opacity);
    const value = (isNaN(own) ? 1 : own) * cumulativeOpacity(composedParent(el));
    opacityCache.set(el, value);
    return value;
  };
  const alphaOf = (color) => {
    if (!color || color === "transparent") return 0;
    const m = color.match(/rgba?\(([^)]+)\)/);
    if (!m) return 1;
    const parts = m[1].split(/[ ,/]+/).filter(Boolean);
    return parts.length >= 4 ? parseFloat(parts[3]) : 1;
  };
  const styleCache = new Map();
  const styleReason = (el) => {
    if (styleCache.has(el)) return styleCache.get(el);
    const cs = getComputedStyle(el);
    let reason = "";
    if (cs.visibility !== "visible") reason = "style";
    else if (cumulativeOpacity(el) < 0.1) reason = "transparent";
    else if (alphaOf(cs.color) < 0.1 || alphaOf(cs.webkitTextFillColor) < 0.1) reason = "transparent";
    styleCache.set(el, reason);
    return reason;
  };
  // The hit must be the text's element or inside it. An ancestor only counts when the element
  // lets hits fall through (pointer-events: none); else the ancestor, or its ::before/::after,
  // is painted on top.
  const hitsElement = (hit, el) => !!hit && (hit === el || el.contains(hit) ||
    (hit.contains(el) && getComputedStyle(el).pointerEvents === "none"));
  const framesHit = (frame) => {
    // every iframe on the way up must itself be what is painted at that point
    for (let f = frame; f; f = f.parent) {
      const r = f.element.getBoundingClientRect();
      const doc = f.element.ownerDocument;
      const hit = doc.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      if (hit !== f.element) return false;
    }
    return true;
  };
  const frameHitCache = new Map();
  // Hit testing costs up to milliseconds on big DOMs (it walks long child lists): test each
  // element once per line, and stop after HIT_BUDGET_MS; later tokens are judged by style and
  // geometry alone and counted in hitTestsSkipped.
  const HIT_BUDGET_MS = 4000;
  const hitCache = new Map();
  let hitMs = 0, hitTestsSkipped = 0;
  const fragmentReason = (node, frame, box, clientX, clientY) => {
    const [x0, y0, x1, y1] = box;
    if (x1 - x0 < 1 || y1 - y0 < 1) return "size";
    const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
    if (cx < 0 || cy < 0 || cx > pageWidth || cy > pageHeight) return "offpage";
    const el = node.parentElement;
    let lines = hitCache.get(el);
    if (!lines) { lines = new Map(); hitCache.set(el, lines); }
    const line = Math.round(y0);
    if (!lines.has(line)) {
      if (hitMs > HIT_BUDGET_MS) { hitTestsSkipped += 1; return ""; }
      const started = performance.now();
      const root = node.getRootNode();
      const hitter = typeof root.elementFromPoint === "function" ? root : node.ownerDocument;
      const hit = hitter.elementFromPoint(clientX, clientY);
      lines.set(line, !hit ? "offpage" : hitsElement(hit, el) ? "" : "covered");
      hitMs += performance.now() - started;
    }
    const hitReason = lines.get(line);
    if (hitReason) return hitReason;
    if (frame) {
      if (!frameHitCache.has(frame)) frameHitCache.set(frame, framesHit(frame));
      if (!frameHitCache.get(frame)) return "covered";
    }
    return "";
  };

  // ---- span -> node lookup
  const nodeIndexAt = (offset) => {
    let lo = 0, hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid; else hi = mid - 1;
    }
    return lo;
  };

  const range = document.createRange();
  const frameRanges = new Map();
  const rangeFor = (node) => {
    const doc = node.ownerDocument;
    if (doc === document) return range;
    if (!frameRanges.has(doc)) frameRanges.set(doc, doc.createRange());
    return frameRanges.get(doc);
  };

  const boxes = [], hidden = [];
  for (let t = 0; t < spans.length; t += 2) {
    const start = spans[t], end = spans[t + 1];
    const fragments = [];   // [x0, y0, x1, y1, clientX, clientY, nodeIndex]
    let reason = "";
    for (let i = nodeIndexAt(start); i < nodes.length && starts[i] < end; i++) {
      const node = nodes[i], nodeStart = starts[i], nodeEnd = ends[i];
      if (nodeEnd <= start) continue;
      const r = rangeFor(node);
      r.setStart(node, Math.max(start - nodeStart, 0));
      r.setEnd(node, Math.min(end, nodeEnd) - nodeStart);
      const [ox, oy] = frameOffset(frames[i]);
      for (const rect of r.getClientRects()) {
        if (rect.width <= 0 && rect.height <= 0) continue;
        const box = [rect.left + ox, rect.top + oy, rect.right + ox, rect.bottom + oy];
        // one box per line fragment: glue pieces of the same line (e.g. "<b>Hel</b>lo")
        const last = fragments[fragments.length - 1];
        if (last) {
          const overlap = Math.min(last[3], box[3]) - Math.max(last[1], box[1]);
          const minH = Math.min(last[3] - last[1], box[3] - box[1]);
          if (overlap >= 0.5 * minH && box[0] - last[2] <= 1 && box[0] >= last[0] - 1) {
            last[0] = Math.min(last[0], box[0]); last[1] = Math.min(last[1], box[1]);
            last[2] = Math.max(last[2], box[2]); last[3] = Math.max(last[3], box[3]);
            continue;
          }
        }
        fragments.push([...box, (rect.left + rect.right) / 2, (rect.top + rect.bottom) / 2, i]);
      }
      if (!reason) reason = styleReason(node.parentElement || document.documentElement);
    }
    const flat = [];
    for (const f of fragments) flat.push(round(f[0]), round(f[1]), round(f[2]), round(f[3]));
    boxes.push(flat);
    if (!fragments.length) { hidden.push("no_box"); continue; }
    if (!reason) {
      for (const f of fragments) {
        reason = fragmentReason(nodes[f[6]], frames[f[6]], f, f[4], f[5]);
        if (reason) break;
      }
    }
    hidden.push(reason);
  }
  // one JSON string: Playwright's structured serializer is slow for many small arrays
  return JSON.stringify({boxes, hidden, hitTestsSkipped});
}
