// Lint rules that catch real defects in this codebase; formatting is left to the editor.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** One config per folder glob: a relative import (static or dynamic) into any of the named top-level folders is an error. */
function boundaries(forbidden) {
  return Object.entries(forbidden).map(([glob, folders]) => {
    const regex = `^(\\.\\./)+(${folders.join('|')})/`;
    const message = `${glob.split('/')[0]}/ must not import ${folders.map((f) => f + '/').join(', ')}: share the code through lib/ (see docs/architecture.md)`;
    return {
      files: [glob.endsWith('**') ? `${glob}/*.{ts,mjs,js}` : glob],
      rules: {
        'no-restricted-imports': ['error', { patterns: [{ regex, message }] }],
        'no-restricted-syntax': ['error', { selector: `ImportExpression[source.value=/${regex.replaceAll('/', '\\/')}/]`, message }],
      },
    };
  });
}

export default tseslint.config(
  { ignores: ['node_modules/**', 'cdk.out/**', '.data/**', 'coverage/**', 'docs/**', 'events/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { ecmaVersion: 2023, sourceType: 'module' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
      eqeqeq: ['error', 'smart'],
    },
  },
  // Dependencies point one way: functions/ <- lib/ <- local/, scripts/, bench/, test/. A tool folder never
  // imports another; tests import lib/ (test/bench/ still imports bench/).
  ...boundaries({
    'functions/**': ['lib', 'local', 'scripts', 'bench', 'test', 'infra'],
    'infra/**': ['lib', 'local', 'scripts', 'bench', 'test'],
    'lib/**': ['local', 'scripts', 'bench', 'test', 'infra'],
    'local/**': ['scripts', 'bench', 'test'],
    'scripts/**': ['local', 'bench', 'test'],
    'bench/**': ['local', 'scripts', 'test'],
    'test/**': ['local', 'scripts', 'bench'],
    'test/bench/**': ['local', 'scripts'],
  }),
  {
    files: ['lib/inbox/page/**/*.js'],
    languageOptions: { globals: { window: 'readonly', document: 'readonly', fetch: 'readonly', EventSource: 'readonly', console: 'readonly', setTimeout: 'readonly', setInterval: 'readonly', URLSearchParams: 'readonly', Audio: 'readonly' } },
  },
);
