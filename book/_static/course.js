/* The course book's own behaviour (book/conf.py adds this file to every page).
 *
 * 1. Search excerpts on file://. Sphinx's search page fetches each result page to show an excerpt
 *    around the hit; a browser refuses fetch() on file:// pages, so a book opened from disk showed
 *    titles only. book/build.py writes the pages' text into _static/course-search-text.js (loaded by
 *    the search page only); here fetch() answers those requests from it. Over http (make serve-book)
 *    nothing changes: the real pages are fetched.
 * 2. A search result lands on the hit. The search page hands its terms to the next page in
 *    localStorage; Sphinx's sphinx_highlight.js would mark them <span class="highlighted">, but skips
 *    every page that loads searchtools.js, which this theme does on all of them (for its search box).
 *    So once MathJax has laid the page out (marks inside TeX source would break it) we ask
 *    sphinx_highlight to mark the terms and scroll the first mark after the result's anchor (or the
 *    page top) into view.
 * 3. An inline formula wider than its line (a phone, 390 px) gets its own horizontal scroll bar
 *    instead of being cut off; the others keep their baseline.
 */
(function () {
  "use strict";

  // --- 1. fetch() of the book's own pages on file:// -------------------------------------------
  if (window.location.protocol === "file:" && window.fetch) {
    const realFetch = window.fetch.bind(window);
    window.fetch = function (input, init) {
      const store = window.COURSE_PAGE_TEXT;
      const rootAttr = document.documentElement.dataset.content_root;
      if (store && rootAttr !== undefined) {
        const root = new URL(rootAttr, window.location.href).href;
        const url = new URL(typeof input === "string" ? input : input.url, window.location.href);
        const href = url.href.split("#")[0].split("?")[0];
        if (href.startsWith(root) && href.endsWith(".html")) {
          const key = decodeURIComponent(href.slice(root.length, -".html".length));
          if (Object.prototype.hasOwnProperty.call(store, key)) {
            const page = '<!DOCTYPE html><html><body><div role="main">' + store[key] + "</div></body></html>";
            return Promise.resolve(new Response(page, { status: 200, headers: { "Content-Type": "text/html" } }));
          }
        }
      }
      return realFetch(input, init);
    };
  }

  // --- 2. land on the search hit ------------------------------------------------------------------
  let terms = "";
  try {
    terms = window.localStorage.getItem("sphinx_highlight_terms") || "";
  } catch (e) { /* storage disabled */ }
  terms = terms || new URL(window.location.href).searchParams.get("highlight") || "";

  function afterMath(callback) {
    const mj = window.MathJax;
    if (mj && mj.startup && mj.startup.promise) {
      mj.startup.promise.then(callback, callback);
    } else {
      callback();
    }
  }

  function scrollToFirstHit() {
    const article = document.querySelector("article") || document.body;
    let start = article;
    if (window.location.hash) {
      try {
        start = document.getElementById(decodeURIComponent(window.location.hash.slice(1))) || article;
      } catch (e) { start = article; }
    }
    const hits = Array.from(article.querySelectorAll("span.highlighted"));
    const hit = hits.find((h) => start === article || start.contains(h)
      || (start.compareDocumentPosition(h) & Node.DOCUMENT_POSITION_FOLLOWING));
    if (hit) {
      hit.scrollIntoView({ block: "center" });
      hit.classList.add("course-first-hit");
    }
  }

  // --- 3. wide inline formulas scroll ---------------------------------------------------------
  function markWideInlineMath() {
    document.querySelectorAll("span.math").forEach((span) => {
      span.classList.remove("course-wide-math");
      const box = span.parentElement;
      if (!box) return;
      const style = window.getComputedStyle(box);
      const room = box.clientWidth - parseFloat(style.paddingLeft || 0) - parseFloat(style.paddingRight || 0);
      if (span.getBoundingClientRect().width > room + 1) span.classList.add("course-wide-math");
    });
  }

  window.addEventListener("load", function () {
    afterMath(function () {
      markWideInlineMath();
      if (!terms.trim()) return;
      // sphinx_highlight.js declares SphinxHighlight with const: a global name, not a window property
      if (!document.querySelector("span.highlighted") && typeof SphinxHighlight !== "undefined") {
        SphinxHighlight.highlightSearchWords();  // marks the terms after a 10 ms timeout
      }
      window.setTimeout(scrollToFirstHit, 60);
    });
  });
  let resizeTimer = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(markWideInlineMath, 150);
  });
})();
