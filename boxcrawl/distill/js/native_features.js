// What Chrome's own collector (Blink DocumentStatisticsCollector + distillability agent) computes, done in
// page JS so the native side can be reproduced on release builds, which no longer dump it. Differences from
// extract_features.js are deliberate and are Blink's: inputs with no (or an unknown) type count as text
// inputs, a p/pre under any <li> ancestor is excluded, visibility is computed style only (no box test;
// a node under display:none is invisible), unlikely/likely words are matched in class and id separately,
// og:type is read from direct <meta> children of <head> only. Returns snake_case keys like Chrome's dump.
(() => {
  const UNLIKELY = ['banner', 'combx', 'comment', 'community', 'disqus', 'extra', 'foot', 'header', 'menu',
    'related', 'remark', 'rss', 'share', 'shoutbox', 'sidebar', 'skyscraper', 'sponsor', 'ad-break',
    'agegate', 'pagination', 'pager', 'popup'];
  const LIKELY = ['and', 'article', 'body', 'column', 'main', 'shadow'];
  const SAT = 1000, THRESHOLD = 140;

  function matchesAny(el, words) {
    const cls = (el.getAttribute('class') || '').toLowerCase();
    const id = (el.getAttribute('id') || '').toLowerCase();
    return words.some(w => cls.includes(w) || id.includes(w));
  }

  function textLengthSaturated(node) {
    let len = 0;
    const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      len += walker.currentNode.data.length;
      if (len > SAT) return SAT;
    }
    return Math.min(len, SAT);
  }

  const f = {
    is_mobile_friendly: false, open_graph: false, element_count: 0, anchor_count: 0, form_count: 0,
    text_input_count: 0, password_input_count: 0, p_count: 0, pre_count: 0,
    moz_score: 0, moz_score_all_sqrt: 0, moz_score_all_linear: 0,
  };
  const head = document.head, body = document.body;
  if (!head || !body) return null;

  function visit(el, underLi, underHidden) {
    f.element_count++;
    const tag = el.localName;
    const style = window.getComputedStyle(el);
    const hidden = underHidden || style.display === 'none';
    if (tag === 'a') f.anchor_count++;
    else if (tag === 'form') f.form_count++;
    else if (tag === 'input') {
      if (el.type === 'text') f.text_input_count++;
      else if (el.type === 'password') f.password_input_count++;
    } else if (tag === 'p' || tag === 'pre') {
      if (tag === 'p') f.p_count++; else f.pre_count++;
      const visible = !hidden && style.visibility !== 'hidden' && style.opacity !== '0';
      if (!underLi && visible && !(matchesAny(el, UNLIKELY) && !matchesAny(el, LIKELY))) {
        const len = textLengthSaturated(el);
        if (len >= THRESHOLD) f.moz_score = Math.min(6 * Math.sqrt(SAT - THRESHOLD), f.moz_score + Math.sqrt(len - THRESHOLD));
        f.moz_score_all_sqrt = Math.min(6 * Math.sqrt(SAT), f.moz_score_all_sqrt + Math.sqrt(len));
        f.moz_score_all_linear = Math.min(6 * SAT, f.moz_score_all_linear + len);
      }
    }
    const li = underLi || tag === 'li';
    for (let c = el.firstElementChild; c; c = c.nextElementSibling) visit(c, li, hidden);
  }
  for (let c = body.firstElementChild; c; c = c.nextElementSibling) visit(c, false, false);

  for (const m of head.children) {
    if (m.localName !== 'meta') continue;
    if (m.getAttribute('name') !== 'og:type' && m.getAttribute('property') !== 'og:type') continue;
    if ((m.getAttribute('content') || '').toLowerCase() === 'article') { f.open_graph = true; break; }
  }

  // Blink: the viewport meta is honoured and either the layout width is the device width or zoom is fixed.
  // Desktop Chrome ignores the viewport meta, so this can only be true under mobile emulation.
  const vp = document.querySelector('meta[name="viewport"]');
  const mobile = navigator.userAgentData ? navigator.userAgentData.mobile : /Mobile/.test(navigator.userAgent);
  if (vp && mobile) {
    const content = (vp.content || '').toLowerCase().replace(/\s+/g, '');
    const min = /minimum-scale=([\d.]+)/.exec(content), max = /maximum-scale=([\d.]+)/.exec(content);
    f.is_mobile_friendly = content.includes('width=device-width') || content.includes('user-scalable=no') ||
      content.includes('user-scalable=0') || (!!min && !!max && parseFloat(min[1]) === parseFloat(max[1]));
  }
  return f;
})()
