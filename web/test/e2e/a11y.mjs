// Run inside the page: form controls without a label, and text whose
// contrast with its background is under WCAG AA (4.5:1, 3:1 for large
// text). Returns a list of problems (empty: passes).
export function a11yCheck() {
	const problems = [];
	for (const el of document.querySelectorAll('input, textarea, select')) {
		if (el.type === 'hidden' || el.closest('[hidden]'))
			continue;
		const labelled = (el.id && document.querySelector(`label[for="${el.id}"]`)) ||
		    el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') ||
		    el.closest('label');
		if (!labelled)
			problems.push(`no label: ${el.outerHTML.slice(0, 80)}`);
	}
	for (const el of document.querySelectorAll('button, video')) {
		if (el.closest('[hidden]'))
			continue;
		if (!(el.textContent.trim() || el.getAttribute('aria-label')))
			problems.push(`no accessible name: ${el.outerHTML.slice(0, 80)}`);
	}
	if (!document.documentElement.lang)
		problems.push('no lang on <html>');
	const rgb = (s) => {
		const m = s.match(/[\d.]+/g).map(Number);
		return { r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1 };
	};
	const lum = ({ r, g, b }) => {
		const f = (c) => (c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
		return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
	};
	const bgOf = (el) => {
		for (let e = el; e; e = e.parentElement) {
			const c = rgb(getComputedStyle(e).backgroundColor);
			if (c.a > 0.5)
				return c;
		}
		return { r: 255, g: 255, b: 255 };
	};
	const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
	const seen = new Set();
	for (let n = walker.nextNode(); n; n = walker.nextNode()) {
		const el = n.parentElement;
		if (!n.textContent.trim() || seen.has(el) || el.closest('[hidden]') ||
		    el.offsetParent === null)
			continue;
		seen.add(el);
		const cs = getComputedStyle(el);
		const fg = lum(rgb(cs.color)), bg = lum(bgOf(el));
		const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
		const large = parseFloat(cs.fontSize) >= 24 ||
		    (parseFloat(cs.fontSize) >= 18.66 && Number(cs.fontWeight) >= 700);
		if (ratio < (large ? 3 : 4.5))
			problems.push(`contrast ${ratio.toFixed(2)}: "${n.textContent.trim().slice(0, 40)}"`);
	}
	return problems;
}
