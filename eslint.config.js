// eslint's configuration for the Action's JavaScript (`npm run lint`).
"use strict";

const js = require("@eslint/js");
const globals = require("globals");

module.exports = [
  js.configs.recommended,
  {
    files: ["action_templates/**/*.js", "tests/action/**/*.js", "eslint.config.js"],
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: "commonjs",
      globals: { ...globals.node },
    },
    rules: {
      eqeqeq: "error",
      "no-var": "error",
      "prefer-const": "error",
      strict: ["error", "global"],
      "no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
];
