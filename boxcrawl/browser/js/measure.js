// Measures every token of the page in one pass: token spans (UTF-16 offsets in
// the page text built by collect_text.js) -> Ranges -> one box per line
// fragment (Range.getClientRects, never the union rect) -> visibility.
//
// Argument: JSON of {spans: [start0, end0, start1, end1, ...], width, height, visibility, inkBoxes}
// Returns:  JSON of {boxes: [[x0, y0, x1, y1, x0, y0, ...] per token], hidden: [reason or "" per token],
//                     inkCheck: [token indices the pixels must decide], hitTestsSkipped}
// Boxes are page CSS px: relative to the top-left of the top document.
(argJson) => {
  const arg = JSON.parse(argJson);
  const state = window.__boxcrawl;
  if (!state) throw new Error("boxcrawl: collect_text.js has not run in this document");
  const {nodes, starts, ends, frames} = state;  // node.data would copy the text on every read
  const {spans, width: pageWidth, height: pageHeight} = arg;
  const round = (v) => Math.round(v * 100) / 100;

  // ---- frame offsets: a same-origin iframe's client coordinates -> page coordinates
  // The window's scroll, read once and updated by whoever scrolls it (visibility.js): reading
  // scrollX/scrollY per text node cost more than the Range rects themselves.
  const top = [window.scrollX, window.scrollY];
  const scrolled = () => { top[0] = window.scrollX; top[1] = window.scrollY; };
  const frameOffsets = new Map();
  const frameOffset = (frame) => {
    if (!frame) return top;
    if (frameOffsets.has(frame)) return frameOffsets.get(frame);
    const [px, py] = frameOffset(frame.parent);
    const el = frame.element, r = el.getBoundingClientRect(), cs = getComputedStyle(el);
    const off = [px + r.left + el.clientLeft + parseFloat(cs.paddingLeft || "0"),
                 py + r.top + el.clientTop + parseFloat(cs.paddingTop || "0")];
    frameOffsets.set(frame, off);
    return off;
  };

  // ---- visibility: one place decides (visibility.js, spliced in by the loader)
  const visibility = (/*VISIBILITY_JS*/)({nodes, frames, frameOffset, scrolled, pageWidth, pageHeight,
                                          mode: arg.visibility || "combined", inkBoxes: !!arg.inkBoxes});

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

  // The shown option of a closed <select> is painted by the control, not laid out as text:
  // its box comes from the control's geometry and the font's metrics (the pixel check confirms it).
  const SELECT_INSET = 4;   // Chromium's menulist puts its label this far inside the padding box
  let canvas = null;
  const shownOption = (node) => {
    const option = node.parentElement && node.parentElement.closest("option");
    const select = option && option.closest("select");
    if (!select || select.multiple || select.size > 1 || select.selectedOptions[0] !== option) return null;
    return select;
  };
  const selectBox = (node, from, to) => {
    const select = shownOption(node);
    if (!select) return null;
    const r = select.getBoundingClientRect(), cs = getComputedStyle(select);
    if (r.width <= 0 || r.height <= 0) return null;
    canvas = canvas || document.createElement("canvas").getContext("2d");
    canvas.font = cs.font;
    const label = (s) => s.replace(/^\s+/, "").replace(/\s+/g, " ");
    const before = label(node.data.slice(0, from)), word = node.data.slice(from, to).replace(/\s+/g, " ");
    const m = canvas.measureText(word);
    const h = m.fontBoundingBoxAscent + m.fontBoundingBoxDescent;
    const x0 = r.left + parseFloat(cs.borderLeftWidth) + parseFloat(cs.paddingLeft) + SELECT_INSET +
               (before ? canvas.measureText(before).width : 0);
    const y0 = r.top + (r.height - h) / 2;
    const right = r.right - parseFloat(cs.borderRightWidth) - parseFloat(cs.paddingRight);
    if (x0 >= right) return null;   // the label is cut off by the control
    return [x0, y0, Math.min(x0 + m.width, right), y0 + h];
  };

  const boxes = [], tokens = [];
  for (let t = 0; t < spans.length; t += 2) {
    const start = spans[t], end = spans[t + 1];
    const fragments = [];   // [x0, y0, x1, y1, nodeIndex]
    const nodeIndexes = [];
    for (let i = nodeIndexAt(start); i < nodes.length && starts[i] < end; i++) {
      const node = nodes[i], nodeStart = starts[i], nodeEnd = ends[i];
      if (nodeEnd <= start) continue;
      nodeIndexes.push(i);
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
        fragments.push([...box, i]);
      }
      if (!fragments.length && node.parentElement && node.parentElement.closest("select")) {
        const box = selectBox(node, Math.max(start - nodeStart, 0), Math.min(end, nodeEnd) - nodeStart);
        const [ox, oy] = frameOffset(frames[i]);
        if (box) fragments.push([box[0] + ox, box[1] + oy, box[2] + ox, box[3] + oy, i]);
      }
    }
    const flat = [];
    for (const f of fragments) flat.push(round(f[0]), round(f[1]), round(f[2]), round(f[3]));
    boxes.push(flat);
    tokens.push({fragments, nodeIndexes});
  }
  const {hidden, inkCheck, inkElements, hitTestsSkipped} = visibility.decide(tokens);
  state.inkElements = inkElements;   // for ink.js: whose text the second render turns off
  // one JSON string: Playwright's structured serializer is slow for many small arrays
  return JSON.stringify({boxes, hidden, inkCheck, hitTestsSkipped});
}
