import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "data/**", "coverage/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-explicit-any": "error",
    },
  },
  {
    files: ["src/base/**", "src/protocol/**", "src/tree/**", "src/consensus/**"],
    rules: {
      "no-restricted-properties": [
        "error",
        { object: "Date", property: "now", message: "Pure layers take time as input." },
        { object: "Math", property: "random", message: "Pure layers take a seeded Prng." },
      ],
      "no-restricted-syntax": [
        "error",
        { selector: "NewExpression[callee.name='Date']", message: "Pure layers take time as input." },
      ],
      "no-restricted-imports": ["error", { patterns: ["node:*", "fs", "net", "crypto", "os", "path"] }],
    },
  },
  {
    files: ["**/*.js", "scripts/**"],
    languageOptions: { globals: { process: "readonly", console: "readonly" } },
  },
);
