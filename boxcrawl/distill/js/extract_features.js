// The raw page features of Chromium's distillability pipeline (dom-distiller heuristics/distillable/
// extract_features.js, BSD-3-Clause, The Chromium Authors), reproduced behaviour for behaviour: 17 keys,
// its isVisible rule, its 2015 Readability regex lists, the `li p` exclusion, the saturation constants and
// UTF-16 `.length`. Evaluated as an expression; returns a plain object.
(() => {
  const UNLIKELY = /banner|combx|comment|community|disqus|extra|foot|header|menu|related|remark|rss|share|shoutbox|sidebar|skyscraper|sponsor|ad-break|agegate|pagination|pager|popup/i;
  const MAYBE = /and|article|body|column|main|shadow/i;

  function hasOGArticle() {
    const elems = document.head ? document.head.querySelectorAll('meta[property="og:type"],meta[name="og:type"]') : [];
    for (const e of elems) {
      if (e.content && e.content.toUpperCase() === 'ARTICLE') return true;  // no trimming, like the original
    }
    return false;
  }

  // Invisible when the box is empty in both directions (changed from "either" to match Blink), or the
  // computed style hides it.
  function isVisible(e) {
    const rect = e.getBoundingClientRect();
    if (rect.width == 0 && rect.height == 0) return false;
    const style = window.getComputedStyle(e);
    if (style.display == 'none' || style.visibility == 'hidden' || style.opacity == 0) return false;
    return true;
  }

  function countVisible(nodes) {
    let n = 0;
    for (const e of nodes) if (isVisible(e)) n++;
    return n;
  }

  function _mozScore(trim, power, cut, excludeLi, saturate) {
    let score = 0;
    const nodes = document.querySelectorAll('p,pre');
    for (const node of nodes) {
      if (!isVisible(node)) continue;
      const matchString = node.className + ' ' + node.id;
      if (UNLIKELY.test(matchString) && !MAYBE.test(matchString)) continue;
      if (excludeLi && node.matches('li p')) continue;
      let text = node.textContent;
      if (trim) text = text.trim();
      const len = Math.min(saturate, text.length);  // UTF-16 code units
      if (len < cut) continue;
      score += Math.pow(len - cut, power);
    }
    return score;
  }

  const body = document.body;
  if (!body) return null;
  return {
    opengraph: hasOGArticle(),
    url: document.location.href,
    title: document.title,
    numElements: body.querySelectorAll('*').length,
    numAnchors: body.querySelectorAll('a').length,
    numForms: body.querySelectorAll('form').length,
    numTextInput: body.querySelectorAll('input[type="text"]').length,
    numPasswordInput: body.querySelectorAll('input[type="password"]').length,
    numPPRE: body.querySelectorAll('p,pre').length,
    innerText: body.innerText,
    textContent: body.textContent,
    innerHTML: body.innerHTML,
    // at most six paragraphs' worth, each counted up to 1000 characters
    mozScore: Math.min(6 * Math.sqrt(1000 - 140), _mozScore(false, 0.5, 140, true, 1000)),
    mozScoreAllSqrt: Math.min(6 * Math.sqrt(1000), _mozScore(false, 0.5, 0, true, 1000)),
    mozScoreAllLinear: Math.min(6 * 1000, _mozScore(false, 1, 0, true, 1000)),
    visibleElements: countVisible(body.querySelectorAll('*')),
    visiblePPRE: countVisible(body.querySelectorAll('p,pre')),
  };
})()
