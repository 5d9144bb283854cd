// A remote MCP server's session (connect, proxy) whose sign-in and sign-out are audited: the
// session stores and deletes its token itself, around the broker, so each goes through
// Broker.auditChange (remote-login, remote-logout: an intent line before, the outcome after;
// the target is the server's origin, never a token).
import type { Broker } from "../core/broker.ts";
import type { SecretRecord } from "../core/store.ts";
import type { RemoteSession } from "../remote/session.ts";

export function auditedSession(session: RemoteSession, broker: Broker): RemoteSession {
  const target = session.cfg.server.origin;
  const ctx = { client: "cli", user: true };
  const login: RemoteSession["login"] = (ui, opts) => broker.auditChange({ event: "remote-login", target }, ctx, () => session.login(ui, opts));
  const logout: RemoteSession["logout"] = () => broker.auditChange({ event: "remote-logout", target }, ctx, () => session.logout());
  // A machine grant (client credentials, cross-app) is a sign-in too. Requests that find no
  // token at the same moment share one grant (as the session does), so one pair of lines.
  let machineRun: Promise<SecretRecord> | null = null;
  const machineLogin: RemoteSession["machineLogin"] = (stepUp) => {
    machineRun ??= broker.auditChange({ event: "remote-login", target }, ctx, () => session.machineLogin(stepUp)).finally(() => (machineRun = null));
    return machineRun;
  };
  const audited: Record<PropertyKey, unknown> = { login, logout, machineLogin };
  // Everything else is the session's own, bound to it (its private fields stay reachable).
  return new Proxy(session, {
    get(t, key) {
      if (key in audited) return audited[key];
      const v = Reflect.get(t, key, t);
      return typeof v === "function" ? v.bind(t) : v;
    },
  });
}
