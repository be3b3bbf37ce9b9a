"""The log's proofs, pure: RFC 9162 Merkle tree math, the leaf encoding, signed tree heads.

No I/O and no clock: node hashes come through a lookup, times are passed in."""
