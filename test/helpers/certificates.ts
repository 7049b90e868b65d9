import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "./exec.js";

export interface Pem {
  key: Buffer;
  cert: Buffer;
}

export interface TestPki {
  ca: Buffer;
  server: Pem;
  client: Pem;
  /** A second CA, and a client certificate it signed: trusted by nobody here. */
  otherCa: Buffer;
  otherClient: Pem;
}

/**
 * A throwaway PKI made with the openssl command line at run time: nothing
 * secret is committed. The server certificate is valid for localhost and
 * 127.0.0.1-3.
 */
export async function createTestPki(): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), "balanced-grpc-pki-"));
  const ssl = (...args: string[]) => run("openssl", args, dir);
  const ecKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  try {
    const makeCa = async (name: string) => {
      await ssl(
        "req",
        "-x509",
        ...ecKey,
        "-keyout",
        `${name}.key`,
        "-out",
        `${name}.crt`,
        "-days",
        "2",
        "-subj",
        `/CN=${name}`,
      );
    };
    const issue = async (name: string, ca: string, extensions: string) => {
      await writeFile(join(dir, `${name}.ext`), extensions);
      await ssl("req", "-new", ...ecKey, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`);
      await ssl(
        "x509",
        "-req",
        "-in",
        `${name}.csr`,
        "-CA",
        `${ca}.crt`,
        "-CAkey",
        `${ca}.key`,
        "-CAcreateserial",
        "-out",
        `${name}.crt`,
        "-days",
        "2",
        "-extfile",
        `${name}.ext`,
      );
    };
    await makeCa("ca");
    await makeCa("other-ca");
    await issue(
      "server",
      "ca",
      "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:127.0.0.2,IP:127.0.0.3\nextendedKeyUsage=serverAuth\n",
    );
    await issue("client", "ca", "extendedKeyUsage=clientAuth\n");
    await issue("other-client", "other-ca", "extendedKeyUsage=clientAuth\n");
    const pem = async (name: string): Promise<Pem> => ({
      key: await readFile(join(dir, `${name}.key`)),
      cert: await readFile(join(dir, `${name}.crt`)),
    });
    return {
      ca: await readFile(join(dir, "ca.crt")),
      server: await pem("server"),
      client: await pem("client"),
      otherCa: await readFile(join(dir, "other-ca.crt")),
      otherClient: await pem("other-client"),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
