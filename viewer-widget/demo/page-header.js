/**
 * What the demo pages share besides demo.css: the page's language (?lang=fr, else English), the
 * link to the same page in the other language, and the header of the pages that give a viewer the
 * rest of the window (mirador.html, mirador-native.html, uv-native.html), whose markup lives only
 * here: a title, the page's links, a hint (demo.css hides it on a phone) and where a problem is
 * told to patrons. Plain JavaScript, served as it is: the pages are static HTML.
 */

/** What patrons read when a page's viewer cannot start, or has nothing to show (the details go to the console). */
export const VIEWER_MESSAGES = {
  en: { failed: 'The viewer could not be started. Please try again later.', empty: 'There are no images in this collection yet. Please come back later.' },
  fr: { failed: 'La visionneuse n’a pas pu démarrer. Réessayez plus tard.', empty: 'Cette collection ne contient pas encore d’images. Revenez un peu plus tard.' },
};

/** The other language of each, named in itself. */
const OTHER = { en: { lang: 'fr', label: 'Français' }, fr: { lang: 'en', label: 'English' } };

export const pageLanguage = () => (new URLSearchParams(location.search).get('lang') === 'fr' ? 'fr' : 'en');

/** Points `link` at this page in the language other than `lang`, named in that language. */
export function setLanguageLink(link, lang) {
  const other = OTHER[lang];
  const url = new URL(location.href);
  url.searchParams.set('lang', other.lang);
  link.textContent = other.label;
  link.lang = link.hreflang = other.lang;
  link.href = url.pathname + url.search;
}

const element = (tag, attributes = {}, text) => {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, value);
  if (text !== undefined) el.textContent = text;
  return el;
};

/**
 * Writes the page's <header> in its language, and sets <html lang> (and the document's title,
 * where `pageTitle` is given). `strings` has an entry per language: `title` (the heading), `hint`
 * (HTML: it may emphasise a control's name), and optionally `pageTitle`, `nav` (the links'
 * accessible name, default "Page") and `portal` (a link to the portal, in the same language).
 * Returns the language, its strings with VIEWER_MESSAGES' beside them, and `problem(text)`, which
 * tells patrons what went wrong.
 */
export function pageHeader(strings) {
  const lang = pageLanguage();
  const s = { ...VIEWER_MESSAGES[lang], ...strings[lang] };
  document.documentElement.lang = lang;
  if (s.pageTitle) document.title = s.pageTitle;
  const nav = element('nav', { id: 'page-nav', 'aria-label': s.nav ?? 'Page' });
  if (s.portal) nav.append(element('a', { id: 'portal-link', href: lang === 'en' ? './' : `./?lang=${lang}` }, s.portal));
  const langLink = element('a', { id: 'lang-link' });
  setLanguageLink(langLink, lang);
  nav.append(langLink);
  const hint = element('span', { id: 'hint' });
  hint.innerHTML = s.hint;
  const problem = element('span', { id: 'problem', role: 'alert' });
  document.querySelector('header').replaceChildren(element('h1', { id: 'title' }, s.title), nav, hint, problem);
  return { lang, s, problem: (text) => (problem.textContent = text) };
}
