/* The course website's small behaviours (loaded on every page by book/_ext/course_site.py).

   1. Wide equations and tables that scroll sideways (on a phone) can be scrolled with the
      keyboard: the ones that overflow their column get tabindex="0" (custom.css draws the
      scroll shadows that show they scroll).
   2. Search results show formulas as readable text ("η ≤ 2/L") instead of raw TeX: Sphinx
      builds each result's summary from the page's HTML, in which MathJax has not run. */
"use strict";

(() => {
  const SCROLLERS =
    ".bd-article mjx-container[display='true'], .bd-article .pst-scrollable-table-container";

  function markScrollers() {
    for (const box of document.querySelectorAll(SCROLLERS)) {
      if (box.scrollWidth > box.clientWidth + 1) {
        box.tabIndex = 0;
        box.dataset.courseScrolls = "";
      } else if ("courseScrolls" in box.dataset) {
        box.removeAttribute("tabindex");
        delete box.dataset.courseScrolls;
      }
    }
  }

  let pending = null;
  const markSoon = () => {
    clearTimeout(pending);
    pending = setTimeout(markScrollers, 150);
  };

  function whenMathIsTypeset(callback) {
    const startup = window.MathJax && window.MathJax.startup;
    if (startup && startup.promise) {
      startup.promise.then(callback);
    } else {
      callback();
    }
  }

  // -- search results without raw TeX -------------------------------------------------------

  const SYMBOLS = {
    alpha: "α", beta: "β", gamma: "γ", delta: "δ", epsilon: "ε", varepsilon: "ε", zeta: "ζ",
    eta: "η", theta: "θ", kappa: "κ", lambda: "λ", mu: "μ", nu: "ν", xi: "ξ", pi: "π",
    rho: "ρ", sigma: "σ", tau: "τ", phi: "φ", varphi: "φ", chi: "χ", psi: "ψ", omega: "ω",
    Gamma: "Γ", Delta: "Δ", Theta: "Θ", Lambda: "Λ", Sigma: "Σ", Phi: "Φ", Omega: "Ω",
    nabla: "∇", partial: "∂", infty: "∞", sum: "∑", prod: "∏", int: "∫", ell: "ℓ",
    cdot: "·", times: "×", odot: "⊙", circ: "∘", pm: "±", le: "≤", leq: "≤", ge: "≥",
    geq: "≥", ne: "≠", neq: "≠", approx: "≈", sim: "∼", propto: "∝", equiv: "≡", in: "∈",
    to: "→", rightarrow: "→", leftarrow: "←", gets: "←", mapsto: "↦", Rightarrow: "⇒",
    ldots: "…", dots: "…", cdots: "⋯", top: "ᵀ", mid: "|", lvert: "|",
    rvert: "|", vert: "|", lVert: "‖", rVert: "‖", Vert: "‖", langle: "⟨", rangle: "⟩",
    quad: " ", qquad: " ", displaystyle: "", textstyle: "", limits: "", nolimits: "",
  };

  /** A TeX formula as plain text: Greek letters and operators as characters, no markup. */
  function texToText(tex) {
    let text = tex.trim().replace(/^(\\\(|\\\[|\$\$?)|(\\\)|\\\]|\$\$?)$/g, "");
    text = text.replace(/\\([A-Za-z]+)/g, (whole, name) => (name in SYMBOLS ? SYMBOLS[name] : whole));
    const group = (body) => (body.length > 1 ? `(${body})` : body);
    const ACCENTS = { hat: "\u0302", tilde: "\u0303", bar: "\u0304", vec: "\u20d7", overline: "\u0305" };
    for (let i = 0; i < 4; i++) {  // nested groups, from the inside out
      text = text.replace(
        /\\(mathbb|mathbf|mathrm|mathcal|boldsymbol|bm|text|textrm|operatorname|hat|tilde|bar|vec|overline)\s*\{([^{}]*)\}/g,
        (_, command, body) => {
          if (command === "mathbb" && body === "R") return "ℝ";
          return command in ACCENTS && body.length === 1 ? body + ACCENTS[command] : body;
        });
      text = text.replace(/\\sqrt\s*\{([^{}]*)\}/g, (_, body) => `√${group(body)}`);
      text = text.replace(/\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}/g,
        (_, a, b) => `${group(a)}/${group(b)}`);
    }
    text = text.replace(/\\[dt]?frac\s*(\w)\s*(\w)/g, "$1/$2");
    text = text.replace(/\\(left|right|big|Big|bigg|Bigg)\b\s*/g, "");
    text = text.replace(/\\sqrt\b/g, "√").replace(/\\([A-Za-z]+)/g, "$1");
    text = text.replace(/([_^])\{([^{}]*)\}/g, (_, mark, body) =>
      mark + (body.length > 1 ? `(${body})` : body));
    text = text.replace(/\\[,;:! ]/g, " ").replace(/\\\\/g, " ").replace(/\\([{}|%$#&])/g, "$1");
    return text.replace(/[{}]/g, "").replace(/&/g, " ").replace(/\s+/g, " ").trim();
  }

  function searchSummariesWithoutTex() {
    if (typeof Search === "undefined" || !Search.htmlToText) return;
    const htmlToText = Search.htmlToText;
    Search.htmlToText = (htmlString, anchor) => {
      const page = new DOMParser().parseFromString(htmlString, "text/html");
      for (const formula of page.querySelectorAll(".math")) {
        formula.textContent = ` ${texToText(formula.textContent)} `;
      }
      return htmlToText(page.documentElement.outerHTML, anchor);
    };
  }

  window.courseSite = { texToText, markScrollers };
  searchSummariesWithoutTex();
  // After the load event every script has run, MathJax's (async) one too.
  window.addEventListener("load", () => whenMathIsTypeset(markScrollers));
  window.addEventListener("resize", markSoon);
})();
