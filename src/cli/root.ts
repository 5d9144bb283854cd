// The citty root command: every sub-command, loaded lazily so start-up pays only for the one run.
import { command } from "./command.ts";

export function rootCommand(version: string) {
  return command({
    examples: [
      "mcp-credentials-broker                        # serve MCP on stdio (what an MCP client runs)",
      "mcp-credentials-broker secret set github-token",
      "mcp-credentials-broker run --env GITHUB_TOKEN=secret:github-token -- github-mcp-server stdio",
      "mcp-credentials-broker audit --since 1h",
      "mcp-credentials-broker login github                 # OAuth in the browser; refreshed automatically",
      "mcp-credentials-broker status --json",
      "mcp-credentials-broker doctor                       # install, store and why, keychain reachable?",
      "mcp-credentials-broker token mint github --scope repo:read",
      "mcp-credentials-broker rules >> CLAUDE.md",
      "mcp-credentials-broker install claude-code          # add it to an MCP client's config",
      "mcp-credentials-broker connect https://mcp.example.com/mcp   # a remote OAuth MCP server as a stdio one",
      "mcp-credentials-broker proxy --upstream https://mcp.example.com/mcp   # … or as a local always-authenticated endpoint",
    ],
    meta: { name: "mcp-credentials-broker", version, description: "Keeps AI agents' credentials out of their prompts. With no command it serves MCP on stdio." },
    subCommands: {
      serve: () => import("./serve.ts").then((m) => m.serveCommand),
      status: () => import("./status.ts").then((m) => m.statusCommand),
      secret: () => import("./secret.ts").then((m) => m.secretCommand),
      login: () => import("./login.ts").then((m) => m.loginCommand),
      logout: () => import("./logout.ts").then((m) => m.logoutCommand),
      provider: () => import("./provider.ts").then((m) => m.providerCommand),
      token: () => import("./token.ts").then((m) => m.tokenCommand),
      run: () => import("./run.ts").then((m) => m.runCommand),
      audit: () => import("./audit.ts").then((m) => m.auditCommand),
      rules: () => import("./rules.ts").then((m) => m.rulesCommand),
      install: () => import("./install.ts").then((m) => m.installCommand),
      uninstall: () => import("./uninstall.ts").then((m) => m.uninstallCommand),
      doctor: () => import("./doctor.ts").then((m) => m.doctorCommand),
      connect: () => import("./connect.ts").then((m) => m.connectCommand),
      proxy: () => import("./proxy.ts").then((m) => m.proxyCommand),
    },
  });
}
