// Escaping of outside text for the terminal: the pure functions live in src/core/outside-text.ts
// (the consent question in the core uses them too); these are the names the CLI uses.
export { escapeControls as terminalText, escapeControlsKeepLines as terminalLines } from "../core/outside-text.ts";
