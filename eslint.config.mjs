// ESLint (flat config) over js/ and app/: `npm run lint`.
import js from '@eslint/js';
import globals from 'globals';

export default [
  js.configs.recommended,
  {
    // The bundle's ES modules (bundled by esbuild; tf_global.cjs is the script build's tf).
    files: ['js/src/**/*.js'],
    languageOptions: {ecmaVersion: 2022, sourceType: 'module', globals: {...globals.browser}},
  },
  {
    files: ['js/src/**/*.cjs'],
    languageOptions: {ecmaVersion: 2022, sourceType: 'commonjs', globals: {...globals.browser}},
  },
  {
    // The browser test page's modules: TF.js and the bundle come by script tag (globals).
    files: ['js/harness/**/*.js'],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: {...globals.browser, tf: 'readonly', ddspgl: 'readonly'},
    },
  },
  {
    // The page's ES modules (app/): plain browser modules, imported by the page as they are.
    files: ['app/**/*.js'],
    languageOptions: {ecmaVersion: 2022, sourceType: 'module', globals: {...globals.browser}},
  },
  {
    rules: {
      'no-unused-vars': ['error', {args: 'none'}],
      'prefer-const': 'error',
      'no-var': 'error',
      eqeqeq: ['error', 'always', {null: 'ignore'}],
      'max-lines': ['error', {max: 400}],
      'max-len': ['error', {code: 100, ignoreUrls: true, ignoreTemplateLiterals: true}],
    },
  },
];
