import { ThriftType, type ThriftField, type ThriftStruct, type ThriftValue } from './thrift-compact.js';

/** Constructors for the fields of a Thrift struct built by hand (Parquet page headers and footers). */
export const thriftField = {
  bool: (id: number, value: boolean): ThriftField => ({ id, value: { type: value ? ThriftType.True : ThriftType.False, value } }),
  byte: (id: number, value: number): ThriftField => ({ id, value: { type: ThriftType.Byte, value } }),
  i16: (id: number, value: number): ThriftField => ({ id, value: { type: ThriftType.I16, value } }),
  i32: (id: number, value: number): ThriftField => ({ id, value: { type: ThriftType.I32, value } }),
  i64: (id: number, value: number): ThriftField => ({ id, value: { type: ThriftType.I64, value: BigInt(value) } }),
  bin: (id: number, value: Uint8Array): ThriftField => ({ id, value: { type: ThriftType.Binary, value } }),
  str: (id: number, value: string): ThriftField => ({ id, value: { type: ThriftType.Binary, value: Buffer.from(value, 'utf8') } }),
  struct: (id: number, value: ThriftStruct): ThriftField => ({ id, value: { type: ThriftType.Struct, value } }),
  list: (id: number, elementType: ThriftType, value: ThriftValue[]): ThriftField => ({ id, value: { type: ThriftType.List, elementType, value } }),
};
