/**
 * `balanced-grpc/wire`: the protobuf binary reader and writer that ts-proto's
 * generated messages import. `balanced-grpc generate` points their imports
 * here, so a project needs no protobuf runtime of its own.
 *
 * @packageDocumentation
 */
export * from "@bufbuild/protobuf/wire";
