#!/usr/bin/env bash
# Imports a secp256k1 private key into an AWS KMS key with origin EXTERNAL, using only bash, openssl and
# the AWS CLI (what AWS CloudShell has). It is AWS's documented import flow (RSAES_OAEP_SHA_256 with an
# RSA_2048 wrapping key, PKCS#8 DER key material), made safe: the plaintext key only ever travels
# through pipes, the wrapping key and token sit in a private temp dir that is removed on exit, and the
# import is checked by comparing the public key KMS returns with the one openssl derives from the file.
#
# Usage: scripts/cloudshell/import-key.sh --key-file FILE --key-id ID [--endpoint-url URL] [--region REGION]
# Exit codes are those of npm run import-key (docs/import-key.md).
set -euo pipefail
umask 077

usage() {
  cat <<'USAGE'
Usage: import-key.sh --key-file FILE --key-id ID [--endpoint-url URL] [--region REGION]

  --key-file FILE     PEM (openssl ecparam -name secp256k1 -genkey, SEC1 or PKCS#8), DER, or a file
                      holding the 64 hex digits MetaMask exports (with or without 0x)
  --key-id ID         key id, ARN or alias/NAME of a KMS key with origin EXTERNAL, key spec
                      ECC_SECG_P256K1, key usage SIGN_VERIFY, in state PendingImport
  --endpoint-url URL  passed to the AWS CLI (e.g. a local KMS)
  --region REGION     passed to the AWS CLI

Exit codes: 0 ok, 1 other, 2 usage, 3 bad key input, 4 key not found, 5 wrong key, 6 access denied,
7 import token expired or invalid, 8 key material already imported or refused, 9 public key mismatch.
USAGE
}

die() {
  local code=$1
  shift
  printf 'error: %s\n' "$*" >&2
  exit "$code"
}

KEY_FILE=""
KEY_ID=""
AWS_ARGS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --key-file) KEY_FILE=${2:?--key-file needs a file}; shift 2 ;;
    --key-id) KEY_ID=${2:?--key-id needs a key id}; shift 2 ;;
    --endpoint-url | --region) AWS_ARGS+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die 2 "unknown argument (keys are read from --key-file, never from the command line)" ;;
  esac
done
[[ -n $KEY_FILE && -n $KEY_ID ]] || { usage >&2; die 2 "--key-file and --key-id are required"; }
[[ -f $KEY_FILE && -r $KEY_FILE ]] || die 3 "cannot read the key file $KEY_FILE"
for tool in aws openssl base64 od; do
  command -v "$tool" >/dev/null || die 1 "$tool is not installed"
done

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# Runs an AWS CLI kms command; on failure, exits with the code for what KMS said.
kms() {
  if aws kms "$@" "${AWS_ARGS[@]}" 2>"$TMP/aws.err"; then return 0; fi
  local err
  err=$(tr '\n' ' ' <"$TMP/aws.err")
  case "$err" in
    *NotFoundException* | *InvalidArnException*) die 4 "KMS key $KEY_ID was not found: $err Check --key-id and the region." ;;
    *AccessDenied* | *"Unable to locate credentials"* | *UnrecognizedClient*) die 6 "access denied: $err The caller needs kms:DescribeKey, kms:GetParametersForImport, kms:ImportKeyMaterial and kms:GetPublicKey on the key." ;;
    *ExpiredImportTokenException*) die 7 "the import token expired: $err Run the script again." ;;
    *InvalidImportTokenException* | *InvalidCiphertextException*) die 7 "KMS did not accept the import token or wrapped key material: $err Run the script again." ;;
    *IncorrectKeyMaterialException*) die 8 "KMS refused the key material: $err A key whose material was deleted accepts only the same material again." ;;
    *KMSInvalidStateException*) die 5 "the key is in the wrong state: $err" ;;
    *) die 1 "aws kms $1 failed: $err" ;;
  esac
}

# Writes the key as canonical SEC1 DER (with its public key) to stdout, checking it with openssl -check.
key_der() {
  if LC_ALL=C grep -q -- '-----BEGIN' "$KEY_FILE"; then
    openssl ec -in "$KEY_FILE" -check -outform DER 2>/dev/null
  elif LC_ALL=C grep -qE '^[[:space:]]*(0[xX])?[0-9a-fA-F]{64}[[:space:]]*$' "$KEY_FILE"; then
    # MetaMask's hex key: wrap it as SEC1 DER (302e 020101 0420 <key> a007 <secp256k1 OID>) with builtins
    # only, so the key never appears in a process's arguments.
    local hex
    hex=$(LC_ALL=C grep -oE '[0-9a-fA-F]{64}' "$KEY_FILE")
    printf '%b' "$(printf '302e0201010420%sa00706052b8104000a' "$hex" | sed 's/../\\x&/g')" |
      openssl ec -inform DER -check -outform DER 2>/dev/null
  else
    openssl ec -inform DER -in "$KEY_FILE" -check -outform DER 2>/dev/null
  fi
}

hex_of() { od -An -v -tx1 | tr -d ' \n'; }

# 1. The key file: a valid secp256k1 key (openssl -check also refuses a scalar outside [1, n-1]).
SECP256K1_SPKI_PREFIX=3056301006072a8648ce3d020106052b8104000a03420004
FILE_SPKI=$(key_der | openssl ec -inform DER -pubout -outform DER 2>/dev/null | hex_of) ||
  die 3 "$KEY_FILE is not a private key openssl can read (PEM, DER, or 64 hex digits), or it is not valid"
[[ $FILE_SPKI == "$SECP256K1_SPKI_PREFIX"* ]] || die 3 "the key in $KEY_FILE is not on secp256k1 (Ethereum keys are secp256k1)"
echo "Public key (key file): 04${FILE_SPKI#"$SECP256K1_SPKI_PREFIX"}"

# 2. The target: spec, usage, origin and state, before anything is sent.
META=$(kms describe-key --key-id "$KEY_ID" --query 'KeyMetadata.[Arn,KeySpec,KeyUsage,Origin,KeyState]' --output text)
read -r ARN SPEC USAGE ORIGIN STATE <<<"$META"
PROBLEMS=()
[[ $SPEC == ECC_SECG_P256K1 ]] || PROBLEMS+=("its key spec is $SPEC, not ECC_SECG_P256K1")
[[ $USAGE == SIGN_VERIFY ]] || PROBLEMS+=("its key usage is $USAGE, not SIGN_VERIFY")
[[ $ORIGIN == EXTERNAL ]] || PROBLEMS+=("its origin is $ORIGIN, not EXTERNAL (it can never take imported key material)")
if [[ ${#PROBLEMS[@]} -eq 0 && ($STATE == Enabled || $STATE == Disabled) ]]; then
  die 8 "KMS key $ARN already holds imported key material (state $STATE); nothing was sent"
fi
[[ $STATE == PendingImport ]] || PROBLEMS+=("its state is $STATE, not PendingImport")
if [[ ${#PROBLEMS[@]} -gt 0 ]]; then
  die 5 "KMS key $ARN cannot receive secp256k1 key material: $(IFS=';'; echo "${PROBLEMS[*]}")"
fi
echo "KMS key: $ARN ($SPEC, $USAGE, origin $ORIGIN, $STATE)"

# 3. Wrapping key and import token (AWS CLI v1 and v2 both print base64 blobs in text output).
PARAMS=$(kms get-parameters-for-import --key-id "$ARN" --wrapping-algorithm RSAES_OAEP_SHA_256 \
  --wrapping-key-spec RSA_2048 --query '[ImportToken,PublicKey]' --output text)
read -r TOKEN_B64 WRAPPING_KEY_B64 <<<"$PARAMS"
base64 -d <<<"$TOKEN_B64" >"$TMP/import-token.bin"
base64 -d <<<"$WRAPPING_KEY_B64" >"$TMP/wrapping-key.der"

# 4. PKCS#8 DER key material, RSA-OAEP-SHA-256 encrypted, in one pipe: the plaintext never touches the disk.
key_der | openssl pkcs8 -topk8 -inform DER -outform DER -nocrypt |
  openssl pkeyutl -encrypt -pubin -keyform DER -inkey "$TMP/wrapping-key.der" \
    -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256 \
    -out "$TMP/encrypted-key-material.bin"

# 5. Import, never expiring.
kms import-key-material --key-id "$ARN" --encrypted-key-material "fileb://$TMP/encrypted-key-material.bin" \
  --import-token "fileb://$TMP/import-token.bin" --expiration-model KEY_MATERIAL_DOES_NOT_EXPIRE >/dev/null
echo "Imported the key material (KEY_MATERIAL_DOES_NOT_EXPIRE)"

# 6. Proof: the public key KMS returns must be the one openssl derives from the key file.
KMS_SPKI_B64=$(kms get-public-key --key-id "$ARN" --query PublicKey --output text)
KMS_SPKI=$(base64 -d <<<"$KMS_SPKI_B64" | hex_of)
FILE_POINT="04${FILE_SPKI#"$SECP256K1_SPKI_PREFIX"}"
KMS_POINT="04${KMS_SPKI#"$SECP256K1_SPKI_PREFIX"}"
if [[ $KMS_SPKI != "$FILE_SPKI" ]]; then
  printf '\n!!! PUBLIC KEY MISMATCH !!!\n  key file: %s\n  KMS key:  %s\n\n' "$FILE_POINT" "$KMS_POINT" >&2
  die 9 "KMS key $ARN does not hold the key from $KEY_FILE. Do not fund or use it until you know why."
fi
echo "public keys match: key file $FILE_POINT = KMS key $KMS_POINT"
echo "Check the Ethereum address against MetaMask with: npm run address -- --kms-key-id $ARN --key-file $KEY_FILE"
