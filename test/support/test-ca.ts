// A private certificate authority for TLS tests (openssl): a CA and one server certificate
// signed by it, valid two days, for the names in `subjectAltName` (e.g. "IP:127.0.0.1").
import { join } from "node:path";

export interface TestCa {
  /** Paths of the PEM files. */
  ca: string;
  cert: string;
  key: string;
}

export function makeTestCa(dir: string, subjectAltName: string): TestCa {
  const run = (args: string[]) => {
    const p = Bun.spawnSync(["openssl", ...args], { cwd: dir, stdout: "ignore", stderr: "pipe" });
    if (p.exitCode !== 0) throw new Error(`openssl ${args[0]} failed: ${p.stderr.toString()}`);
  };
  // RSA: the one key type whose flags OpenSSL and macOS's LibreSSL both take the same way.
  const key = ["-newkey", "rsa:2048", "-nodes"];
  run(["req", "-x509", ...key, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=mcb test CA"]);
  run(["req", ...key, "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=mcb test server"]);
  Bun.write(join(dir, "ext.cnf"), `subjectAltName=${subjectAltName}\n`);
  run(["x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "srv.pem", "-days", "2", "-extfile", "ext.cnf"]);
  return { ca: join(dir, "ca.pem"), cert: join(dir, "srv.pem"), key: join(dir, "srv.key") };
}
