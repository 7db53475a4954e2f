// asn1.js ships no type definitions and none are published; this declares only the part we use.
declare module 'asn1.js' {
  namespace asn1 {
    /** A bn.js big number, as asn1.js returns INTEGERs. */
    interface BN {
      toString(base: number): string;
    }
    /** The schema builder that `define` passes as `this`. */
    interface Node {
      seq(): Node;
      obj(...children: Node[]): Node;
      key(name: string): Node;
      int(): Node;
      objid(values?: Record<string, string>): Node;
      bitstr(): Node;
      octstr(): Node;
      any(): Node;
      optional(): Node;
      explicit(tag: number): Node;
      use(entity: Entity<unknown>): Node;
    }
    /** A defined ASN.1 type that decodes DER into T and encodes T back. */
    interface Entity<T> {
      decode(data: Buffer, encoding?: 'der'): T;
      encode(data: T, encoding?: 'der'): Buffer;
    }
    function define<T>(name: string, body: (this: Node) => void): Entity<T>;
    const bignum: new (value: string | number, base?: number) => BN;
  }
  export = asn1;
}
