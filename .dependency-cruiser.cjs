/**
 * Reprise's layers, checked by dependency-cruiser (`npm run check:layers`, part of `npm test`).
 * Lower layers never import higher ones; a folder is entered through its index.ts (imports of
 * types included), so what a folder offers the others is one list; and nothing imports itself in
 * a circle. viewer-widget/src is browser code: it imports no server code but the response types
 * it shares with the API.
 */
const LAYERS = [['common'], ['config'], ['models'], ['store'], ['reprints'], ['harvester'], ['plugin', 'publisher'], ['cli']];
const FOLDERS = LAYERS.flat();
/** Server modules the widget's bundle shares (the API's response shapes, the relevance bands and cut-offs): browser-safe, entered directly. */
const SHARED_WITH_BROWSER = ['^plugin/response-schemas\\.ts$', '^common/relevance\\.ts$'];
const folder = (names) => `^(${names.join('|')})/`;

const layerRules = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `layer-${layer.join('-')}`,
  comment: `${layer.join(' and ')} may import only ${LAYERS.slice(0, i + 1).flat().join(', ')}: ${LAYERS.slice(i + 1).flat().join(', ')} are above`,
  severity: 'error',
  from: { path: folder(layer) },
  to: { path: folder(LAYERS.slice(i + 1).flat()) },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'modules that import each other in a circle: load order decides what each sees',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'peers-stay-apart',
      comment: 'plugin and publisher are peers: each stands on the layers below, not on the other',
      severity: 'error',
      from: { path: '^(plugin|publisher)/' },
      to: { path: '^(plugin|publisher)/', pathNot: '^$1/' },
    },
    {
      name: 'enter-through-index',
      comment: "another folder is entered through its index.ts, types included: what a folder offers the others is that one list",
      severity: 'error',
      from: { path: `^(${FOLDERS.join('|')})/|^viewer-widget/[^/]+$` },
      to: {
        path: `^(${FOLDERS.join('|')})/`,
        pathNot: [`^$1/`, `^(${FOLDERS.join('|')})/index\\.ts$`],
      },
    },
    {
      name: 'server-only-through-serve',
      comment: "the server uses viewer-widget through serve.ts (the widget's files and demo pages), never its browser sources",
      severity: 'error',
      from: { path: `^(${FOLDERS.join('|')})/|^index\\.ts$` },
      to: { path: '^viewer-widget/', pathNot: '^viewer-widget/serve\\.ts$' },
    },
    {
      name: 'widget-is-browser-code',
      comment: 'the widget runs in browsers: of the server it imports only the modules written to be shared with it',
      severity: 'error',
      from: { path: '^viewer-widget/src/' },
      to: { path: `^(${FOLDERS.join('|')})/`, pathNot: SHARED_WITH_BROWSER },
    },
    {
      name: 'shared-with-browser-stays-pure',
      comment: 'a module the widget shares runs in browsers too: it imports no Node module and nothing of the server but other shared ones',
      severity: 'error',
      from: { path: SHARED_WITH_BROWSER },
      to: { pathNot: SHARED_WITH_BROWSER, dependencyTypes: ['core', 'local'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|test)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
