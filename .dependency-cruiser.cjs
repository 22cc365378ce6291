/**
 * The dependency rule `npm test` enforces (dependency-cruiser): no import cycles anywhere, and the handler's
 * stages as layers, imports only going one way:
 *
 *   edge (lambda/handler.ts) → flows/ → parse/ · plan/ · act/ · report/ → match/ · job/ · aws/ · work.ts · types.ts · errors.ts · config.ts
 *
 * The four stages in the middle do not import one another: what two of them share lives below them. The
 * verifier (lambda/verify/) and restore (lambda/restore/) are functions of their own beside them. The construct (lib/) never imports the
 * handler, and the handler imports from lib/ only the files both sides share. The operator's command (cli/)
 * talks to a deployed terminator through AWS only: it imports neither the handler nor the construct, only the
 * contract files, and nothing imports it.
 */
const BASE = '^lambda/((match|job|aws)/|(types|errors|config|work)\\.ts$)';
const STAGES = '^lambda/(parse|plan|act|report)/';
const ABOVE_BASE = '^lambda/((parse|plan|act|report|flows|verify|restore)/|handler\\.ts$)';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A cycle makes two modules one: neither can be read, tested or moved alone.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'base-imports-only-base',
      comment: 'The base (pure model, job format, AWS callers, shared types) must not reach up into a stage.',
      severity: 'error',
      from: { path: BASE },
      to: { path: ABOVE_BASE },
    },
    {
      name: 'stages-do-not-import-each-other',
      comment: 'parse, plan, act and report each import only the base: what two share moves down.',
      severity: 'error',
      from: { path: STAGES },
      to: { path: ABOVE_BASE, pathNot: '^lambda/$1/' },
    },
    {
      name: 'flows-below-the-edge',
      comment: "Flows are called by the edge and never call it (nor the verifier's code).",
      severity: 'error',
      from: { path: '^lambda/flows/' },
      to: { path: '^lambda/(handler\\.ts$|verify/)' },
    },
    {
      name: 'verifier-stands-apart',
      comment: "The verifier shares only the base and the parser's issue wording with the terminator.",
      severity: 'error',
      from: { path: '^lambda/verify/' },
      to: { path: '^lambda/((plan|act|report|flows|match|job)/|handler\\.ts$)' },
    },
    {
      name: 'restore-stands-apart',
      comment:
        "Restore is a function of its own (its own role): it shares the base and the parser's issue wording only.",
      severity: 'error',
      from: { path: '^lambda/restore/' },
      to: {
        path: '^lambda/((plan|act|report|flows|match|verify|parse)/|handler\\.ts$)',
        pathNot: '^lambda/parse/issues\\.ts$',
      },
    },
    {
      name: 'terminator-does-not-import-restore',
      severity: 'error',
      from: { path: '^lambda/', pathNot: '^lambda/restore/' },
      to: { path: '^lambda/restore/' },
    },
    {
      name: 'terminator-does-not-import-the-verifier',
      severity: 'error',
      from: { path: '^lambda/', pathNot: '^lambda/verify/' },
      to: { path: '^lambda/verify/' },
    },
    {
      name: 'construct-does-not-import-the-handler',
      comment: 'The construct ships without the handler code; the shared contract lives in lib/.',
      severity: 'error',
      from: { path: '^lib/' },
      to: { path: '^lambda/' },
    },
    {
      name: 'handler-imports-only-the-shared-contract',
      comment:
        'Of lib/, the handler imports only the files written for both sides (no aws-cdk-lib at run time).',
      severity: 'error',
      from: { path: '^lambda/' },
      to: { path: '^lib/', pathNot: '^lib/(contract|policy-contract|role-grants)\\.ts$' },
    },
    {
      name: 'cli-imports-only-the-shared-contract',
      comment:
        "The command works through the deployed functions: it shares the contract, never the handler's code or aws-cdk-lib.",
      severity: 'error',
      from: { path: '^cli/' },
      to: { path: '^(lambda/|lib/)', pathNot: '^lib/(contract|policy-contract|operator-contract)\\.ts$' },
    },
    {
      name: 'local-servers-stand-alone',
      comment:
        "local/ is AWS on this machine (the demo's, and the tests'): it runs the shipped bundles, never imports the handler or the command.",
      severity: 'error',
      from: { path: '^local/' },
      to: { path: '^(lambda|cli)/|^lib/', pathNot: '^lib/(contract|operator-contract)\\.ts$' },
    },
    {
      name: 'nothing-imports-the-cli',
      severity: 'error',
      from: { path: '^(lambda|lib|local)/' },
      to: { path: '^cli/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.(d\\.ts|js)$' },
    tsConfig: { fileName: 'tsconfig.json' },
    // Type-only imports count: a cycle of types is still a cycle to a reader.
    tsPreCompilationDeps: true,
  },
};
