/**
 * The names a generated client gives a service's methods, and the client
 * definition that carries them when any differs from ts-proto's.
 *
 * ts-proto keys its definition's methods by the proto name with the first
 * letter lowered (`rpc Then` → `then`), as its generic definitions do; the
 * SDK's rule (src/method-names.ts) then suffixes a reserved key (`then_`).
 * Renaming happens here, when the code is generated, so a client never meets
 * a reserved name at run time.
 */
import type { DescService } from "@bufbuild/protobuf";
import type { GeneratedFile } from "@bufbuild/protoplugin";
import { clientMethodName } from "../src/method-names.js";

/** `[ts-proto's key, the client's name]` for every method, in proto order. */
export type MethodNames = [key: string, client: string][];

/** The rule, as the plugin's messages and the README state it. */
const RULE =
  "a method named after a JavaScript or client name (then, close, constructor, toString, … " +
  "every Object.prototype name) is called <name>_ on the client";

/** ts-proto's key of a method: the proto name with its first letter lowered. */
function tsProtoKey(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

/** The client's names for `service`'s methods; throws (the plugin exits 1, naming the method) when the rule cannot apply. */
export function clientMethodNames(service: DescService): MethodNames {
  const names: MethodNames = service.methods.map((m) => [tsProtoKey(m.name), clientMethodName(tsProtoKey(m.name))]);
  const keys = new Set(names.map(([key]) => key));
  for (const [key, client] of names) {
    const rpc = `rpc ${service.methods.find((m) => tsProtoKey(m.name) === key)!.name} in ${service.typeName}`;
    // An object literal's `__proto__:` sets its prototype: ts-proto's own
    // definition (and so any server or client of it) silently loses the method.
    if (key === "__proto__") {
      throw new Error(
        `${rpc}: a method named __proto__ cannot be generated (${RULE}, but ts-proto's definition drops __proto__); rename the rpc`,
      );
    }
    if (key !== client && keys.has(client)) {
      throw new Error(
        `${rpc}: the client would call it ${client} (${RULE}), but another method is named ${client}; rename one of them`,
      );
    }
  }
  return names;
}

/**
 * Prints `<Service>ClientDefinition`: ts-proto's definition with the client's
 * method names (the same method objects, so the same wire paths and codecs).
 * Returns its name.
 */
export function printClientDefinition(f: GeneratedFile, service: DescService, names: MethodNames): string {
  const definition = `${service.name}Definition`;
  const name = `${service.name}ClientDefinition`;
  const renamed = names.filter(([key, client]) => key !== client).map(([key, client]) => `\`${key}\` → \`${client}\``);
  f.print(
    f.jsDoc(
      `\`${definition}\` with the names the client uses: ${renamed.join(", ")} ` +
        "(JavaScript or the client gives the original names a meaning). The wire names are the proto's.",
    ),
  );
  f.print(`const ${name} = {`);
  f.print(`  name: ${definition}.name,`);
  f.print(`  fullName: ${definition}.fullName,`);
  f.print("  methods: {");
  for (const [key, client] of names) f.print(`    ${client}: ${definition}.methods.${key},`);
  f.print("  },");
  f.print("} as const;");
  f.print();
  return name;
}
