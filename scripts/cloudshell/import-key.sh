#!/usr/bin/env bash
# Imports a secp256k1 private key into an AWS KMS key with origin EXTERNAL, using only bash, openssl and
# the AWS CLI (what AWS CloudShell has). It is AWS's documented import flow (RSAES_OAEP_SHA_256 with an
# RSA_2048 wrapping key, PKCS#8 DER key material), made safe: the key is read once (from a file or stdin)
# into this shell's memory and only ever travels through pipes, the wrapping key and token sit in a
# private temp dir that is removed on exit, and the import is checked by comparing the public key KMS
# returns with the one openssl derives from the key.
#
# Usage: scripts/cloudshell/import-key.sh --key-file FILE|- --key-id ID [--endpoint-url URL] [--region REGION]
# Exit codes are those of npm run import-key (docs/import-key.md).
set -euo pipefail
umask 077

usage() {
  cat <<'USAGE'
Usage: import-key.sh --key-file FILE|- --key-id ID [--endpoint-url URL] [--region REGION]

  --key-file FILE|-   PEM (openssl ecparam -name secp256k1 -genkey, SEC1 or PKCS#8, named or explicit
                      curve parameters, passphrase-encrypted too), DER, or the 64 hex digits MetaMask
                      exports (with or without 0x). - reads stdin: at a terminal it prompts and reads
                      without echo, so the key never has to be saved in CloudShell's home directory.
                      No mnemonics: use npm run import-key -- --mnemonic - for those.
  --key-id ID         key id, ARN or alias/NAME of a KMS key with origin EXTERNAL, key spec
                      ECC_SECG_P256K1, key usage SIGN_VERIFY, in state PendingImport. Create one with:
                      aws kms create-key --origin EXTERNAL --key-spec ECC_SECG_P256K1 --key-usage SIGN_VERIFY
  --endpoint-url URL  passed to the AWS CLI (e.g. a local KMS)
  --region REGION     passed to the AWS CLI

Exit codes: 0 ok, 1 other, 2 usage, 3 bad key input, 4 key not found, 5 wrong key, 6 access denied,
7 import token expired or invalid, 8 key material already imported or refused, 9 public key mismatch,
11 AWS region or credentials missing.
USAGE
}

die() {
  local code=$1
  shift
  printf 'error: %s\n' "$*" >&2
  exit "$code"
}

# True if a command-line value looks like key material: 62-66 hex digits, a PEM block, or three or more
# short lower-case words (a BIP-39 phrase; bash has no word list). Such a value is never echoed.
looks_secret() {
  [[ $1 =~ ^[[:space:]]*(0[xX])?[0-9a-fA-F]{62,66}[[:space:]]*$ ]] && return 0
  [[ $1 == *-----BEGIN* || $1 == *"PRIVATE KEY-----"* ]] && return 0
  [[ $1 =~ ^[[:space:]]*[a-z]{3,8}([[:space:]]+[a-z]{3,8}){2,}[[:space:]]*$ ]] && return 0
  return 1
}

refuse_secret() {
  die 2 "${1:-a command-line argument} looks like key material (a private key or a mnemonic), not a file name. It was NOT used" \
    "and is not shown here. Treat it as EXPOSED: it is in your shell history (~/.bash_history, which CloudShell keeps)" \
    "and was visible in the process list. If it controls funds, move them to a new key; clear the history (history -c)." \
    "Pass keys safely: --key-file - and paste the key at the prompt (read without echo), or a file only you can read" \
    "(chmod 600 FILE) that you delete afterwards (shred -u FILE)."
}

KEY_FILE=""
KEY_ID=""
AWS_ARGS=()
PREVIOUS=""
for arg in "$@"; do
  if looks_secret "$arg"; then refuse_secret "${PREVIOUS:+the value given to $PREVIOUS}"; fi
  [[ $arg == --* ]] && PREVIOUS=$arg || PREVIOUS=""
done
while [[ $# -gt 0 ]]; do
  case "$1" in
    --key-file) KEY_FILE=${2:?--key-file needs a file (or - for stdin)}; shift 2 ;;
    --key-id) KEY_ID=${2:?--key-id needs a key id}; shift 2 ;;
    --endpoint-url | --region) AWS_ARGS+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die 2 "unknown argument (keys are read from --key-file FILE or --key-file -, never from the command line)" ;;
  esac
done
[[ -n $KEY_FILE && -n $KEY_ID ]] || { usage >&2; die 2 "--key-file and --key-id are required"; }
for tool in aws openssl base64 od sed head; do
  command -v "$tool" >/dev/null || die 1 "$tool is not installed"
done

TMP=$(mktemp -d)
SAVED_TTY="" # the terminal's settings while echo is off (reading a pasted key), restored on any exit
cleanup() {
  rm -rf "$TMP"
  if [[ -n $SAVED_TTY ]]; then stty "$SAVED_TTY" 2>/dev/null || true; fi
}
trap cleanup EXIT

hex_of() { od -An -v -tx1 | tr -d ' \n'; }
# Writes hex text as bytes, with builtins and sed on a pipe: the key never appears in a process's arguments.
bytes_of() { printf '%b' "$(sed 's/../\\x&/g')"; }

MAX_KEY_BYTES=65536
# 1. Read the key once, as hex in this shell's memory (a file, a pipe, process substitution or a terminal).
if [[ $KEY_FILE == - ]]; then
  SHOWN_KEY="stdin"
  if [[ -t 0 ]]; then
    # Echo goes off before the prompt and stays off across the lines of a PEM block: `read -s` alone turns it
    # off only while it waits, so a key pasted (or typed ahead) before or between reads would be shown.
    SAVED_TTY=$(stty -g)
    stty -echo
    printf 'Paste the private key (64 hex digits, or a PEM block); the input is hidden. Then press Enter:\n' >&2
    TYPED=""
    while IFS= read -rs LINE; do
      TYPED+="$LINE"$'\n'
      [[ $TYPED == -----BEGIN* && $LINE != -----END* ]] || break
    done
    stty "$SAVED_TTY"
    SAVED_TTY=""
    printf '\n' >&2
    INPUT_HEX=$(printf '%s' "$TYPED" | hex_of)
    TYPED="" LINE=""
  else
    INPUT_HEX=$(head -c $((MAX_KEY_BYTES + 1)) | hex_of)
  fi
else
  SHOWN_KEY=${KEY_FILE:0:300}
  [[ -e $KEY_FILE ]] || die 3 "cannot read the key file $SHOWN_KEY: it does not exist (use --key-file - to paste the key)"
  [[ ! -d $KEY_FILE ]] || die 3 "cannot read the key file $SHOWN_KEY: it is a directory"
  [[ -r $KEY_FILE ]] || die 3 "cannot read the key file $SHOWN_KEY: permission denied"
  INPUT_HEX=$(head -c $((MAX_KEY_BYTES + 1)) <"$KEY_FILE" | hex_of)
fi
((${#INPUT_HEX} <= MAX_KEY_BYTES * 2)) || die 3 "$SHOWN_KEY is more than $MAX_KEY_BYTES bytes; a key is at most a few hundred"
[[ -n $INPUT_HEX ]] || die 3 "$SHOWN_KEY is empty"
input_bytes() { bytes_of <<<"$INPUT_HEX"; }

bad_key() { die 3 "$SHOWN_KEY is not a secp256k1 private key: $*"; }

# 2. Recognise the input and turn it into canonical SEC1 DER with the named curve (hex, in memory). Each
#    common mistake gets its own message. openssl reads an encrypted PEM once, asking once for its passphrase.
TEXT=""
if ! input_bytes | LC_ALL=C grep -q '[^[:print:][:space:]]'; then
  TEXT=$(input_bytes | tr -d ' \t\r\n')
fi
if [[ $TEXT == *-----BEGIN* ]]; then
  if [[ $TEXT == *PUBLICKEY-----* && $TEXT != *PRIVATEKEY-----* ]]; then
    bad_key "it is a PUBLIC key; the private key is needed"
  fi
  [[ $TEXT == *PRIVATEKEY-----* ]] || bad_key "the PEM holds no private key block (EC PRIVATE KEY, PRIVATE KEY or ENCRYPTED PRIVATE KEY)"
  # openssl asks for a passphrase on /dev/tty; without a terminal it fails with messages that vary by version.
  if [[ $TEXT == *ENCRYPTEDPRIVATEKEY-----* || $TEXT == *Proc-Type:4,ENCRYPTED* ]] && ! { : </dev/tty; } 2>/dev/null; then
    die 3 "$SHOWN_KEY is encrypted with a passphrase, and there is no terminal to ask for it. Run this script in a terminal (the CloudShell tab), where openssl asks for the passphrase; or decrypt the key into its stdin, giving openssl the passphrase from a file only you can read: openssl ec -in KEY.pem -passin file:PASSPHRASE_FILE | bash import-key.sh --key-file - …"
  fi
  # -param_enc named_curve also turns explicit secp256k1 parameters into the named curve.
  DER_HEX=$(input_bytes | openssl ec -param_enc named_curve -outform DER 2>"$TMP/openssl.err" | hex_of) || true
  if [[ -z $DER_HEX ]]; then
    if grep -q -i 'bad decrypt\|maybe wrong password\|interrupted or cancelled' "$TMP/openssl.err"; then bad_key "the passphrase is wrong (or was not given)"; fi
    bad_key "openssl cannot read the PEM (it is not an EC key, or it is damaged)"
  fi
elif [[ -n $TEXT && $TEXT =~ ^(0[xX])?([0-9a-fA-F]+)$ ]]; then
  DIGITS=${BASH_REMATCH[2]}
  case ${#DIGITS} in
    64) ;;
    40) bad_key "it has 40 hex digits: that is an Ethereum address, not a private key (export the private key from the wallet)" ;;
    66) [[ $DIGITS == 0[23]* ]] && bad_key "it has 66 hex digits starting 02/03: that is a compressed public key; the private key is needed" ;;&
    128 | 130) bad_key "it has ${#DIGITS} hex digits: that is a public key; the private key is needed" ;;
    *) bad_key "it has ${#DIGITS} hex digits; a private key has exactly 64 (check nothing was cut off when copying)" ;;
  esac
  [[ ${#DIGITS} -eq 64 ]] || bad_key "it has ${#DIGITS} hex digits; a private key has exactly 64"
  [[ ! $DIGITS =~ ^0+$ ]] || bad_key "it is zero, which is not a valid private key (it must be from 1 to n-1)"
  # Equal-length lower-case hex compares as numbers do.
  [[ ${DIGITS,,} < fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141 ]] ||
    bad_key "it is not below the curve order n (0xffff…4141), so it is not a secp256k1 private key (it must be from 1 to n-1)"
  # MetaMask's hex key as SEC1 DER: 302e 020101 0420 <key> a007 <secp256k1 OID>.
  DER_HEX="302e0201010420${DIGITS}a00706052b8104000a"
  DIGITS=""
elif [[ -n $TEXT && $TEXT =~ ^[a-zA-Z]+$ ]]; then
  bad_key "it is only letters: it looks like a mnemonic. This script does not derive keys from a mnemonic: use" \
    "npm run import-key -- --mnemonic - (from this repository), which does"
elif [[ $TEXT == \{* ]]; then
  bad_key "it looks like a JSON keystore; export the private key from the wallet instead"
elif [[ $INPUT_HEX == 30* ]]; then
  DER_HEX=$(input_bytes | openssl ec -inform DER -param_enc named_curve -outform DER 2>/dev/null | hex_of) || true
  if [[ -z $DER_HEX ]]; then
    if input_bytes | openssl pkey -pubin -inform DER -noout 2>/dev/null; then bad_key "it is a DER PUBLIC key; the private key is needed"; fi
    bad_key "it is binary, but not an EC private key in DER (SEC1 or PKCS#8)"
  fi
else
  bad_key "it is not PEM, DER or 64 hex digits"
fi
INPUT_HEX=""
key_der() { bytes_of <<<"$DER_HEX"; }

# openssl -check refuses a scalar outside [1, n-1] and a stored public key that does not match.
key_der | openssl ec -inform DER -check -noout >/dev/null 2>&1 ||
  bad_key "openssl ec -check refuses it (the number is 0 or not below the curve order n, or the public key stored with it does not match)"
SECP256K1_SPKI_PREFIX=3056301006072a8648ce3d020106052b8104000a03420004
FILE_SPKI=$(key_der | openssl ec -inform DER -pubout -outform DER 2>/dev/null | hex_of) || true
[[ -n $FILE_SPKI ]] || bad_key "openssl cannot derive its public key (the number is 0 or not below the curve order n)"
if [[ $FILE_SPKI != "$SECP256K1_SPKI_PREFIX"* ]]; then
  CURVE=$(key_der | openssl ec -inform DER -text -noout 2>/dev/null | sed -n 's/^ASN1 OID: //p')
  bad_key "it is on ${CURVE:-another curve}, not secp256k1 (Ethereum keys are secp256k1)"
fi
FILE_POINT="04${FILE_SPKI#"$SECP256K1_SPKI_PREFIX"}"
echo "Public key (key): $FILE_POINT"

# Runs an AWS CLI kms command; on failure, exits with the code for what KMS said.
kms() {
  if aws kms "$@" "${AWS_ARGS[@]}" 2>"$TMP/aws.err"; then return 0; fi
  local err
  err=$(tr '\n' ' ' <"$TMP/aws.err" | cut -c 1-600)
  case "$err" in
    *"Unable to locate credentials"* | *"config profile"*"could not be found"* | *ProfileNotFound*) die 11 "no AWS credentials: $err In CloudShell they are provided; elsewhere run aws configure or set AWS_PROFILE." ;;
    *"must specify a region"* | *NoRegion*) die 11 "no AWS region: $err Give --region REGION or export AWS_DEFAULT_REGION." ;;
    *NotFoundException* | *InvalidArnException*) die 4 "KMS key $KEY_ID was not found: $err Check --key-id and the region (--region)." ;;
    *AccessDenied* | *UnrecognizedClient*) die 6 "access denied: $err The caller needs kms:DescribeKey, kms:GetParametersForImport, kms:ImportKeyMaterial and kms:GetPublicKey on the key." ;;
    *ExpiredImportTokenException*) die 7 "the import token expired: $err Run the script again." ;;
    *InvalidImportTokenException* | *InvalidCiphertextException*) die 7 "KMS did not accept the import token or wrapped key material: $err Run the script again." ;;
    *IncorrectKeyMaterialException*) die 8 "KMS refused the key material: $err A key whose material was deleted accepts only the same material again." ;;
    *KMSInvalidStateException*) die 5 "the key is in the wrong state: $err" ;;
    *) die 1 "aws kms $1 failed: $err" ;;
  esac
}

# 3. The target: spec, usage, origin and state, before anything is sent.
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
  die 5 "KMS key $ARN cannot receive secp256k1 key material: $(IFS=';'; echo "${PROBLEMS[*]}"). Create a key that can:" \
    "aws kms create-key --origin EXTERNAL --key-spec ECC_SECG_P256K1 --key-usage SIGN_VERIFY"
fi
echo "KMS key: $ARN ($SPEC, $USAGE, origin $ORIGIN, $STATE)"

# 4. Wrapping key and import token (AWS CLI v1 and v2 both print base64 blobs in text output).
PARAMS=$(kms get-parameters-for-import --key-id "$ARN" --wrapping-algorithm RSAES_OAEP_SHA_256 \
  --wrapping-key-spec RSA_2048 --query '[ImportToken,PublicKey]' --output text)
read -r TOKEN_B64 WRAPPING_KEY_B64 <<<"$PARAMS"
base64 -d <<<"$TOKEN_B64" >"$TMP/import-token.bin"
base64 -d <<<"$WRAPPING_KEY_B64" >"$TMP/wrapping-key.der"

# 5. PKCS#8 DER key material, RSA-OAEP-SHA-256 encrypted, in one pipe: the plaintext never touches the disk.
key_der | openssl pkcs8 -topk8 -inform DER -outform DER -nocrypt |
  openssl pkeyutl -encrypt -pubin -keyform DER -inkey "$TMP/wrapping-key.der" \
    -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256 \
    -out "$TMP/encrypted-key-material.bin"
DER_HEX=""

# 6. Import, never expiring.
kms import-key-material --key-id "$ARN" --encrypted-key-material "fileb://$TMP/encrypted-key-material.bin" \
  --import-token "fileb://$TMP/import-token.bin" --expiration-model KEY_MATERIAL_DOES_NOT_EXPIRE >/dev/null
echo "Imported the key material (KEY_MATERIAL_DOES_NOT_EXPIRE)"

# 7. Proof: the public key KMS returns must be the one openssl derives from the key.
KMS_SPKI_B64=$(kms get-public-key --key-id "$ARN" --query PublicKey --output text)
KMS_SPKI=$(base64 -d <<<"$KMS_SPKI_B64" | hex_of)
KMS_POINT="04${KMS_SPKI#"$SECP256K1_SPKI_PREFIX"}"
if [[ $KMS_SPKI != "$FILE_SPKI" ]]; then
  printf '\n!!! PUBLIC KEY MISMATCH !!!\n  key:     %s\n  KMS key: %s\n\n' "$FILE_POINT" "$KMS_POINT" >&2
  die 9 "KMS key $ARN does not hold the key from $SHOWN_KEY. Do not fund or use it until you know why."
fi
echo "public keys match: key $FILE_POINT = KMS key $KMS_POINT"
# The address is keccak-256 of the point's 64 bytes X||Y, last 20 bytes; openssl 3.0 has no keccak-256.
cat <<EOF
The Ethereum address is not computed here (openssl 3.0 has no Keccak-256). Compare it with MetaMask's, either
offline from the public key, in a clone of this repository (Foundry's cast):
  npx cast to-check-sum-address 0x\$(npx cast keccak 0x${FILE_POINT#04} | cut -c 27-)
or from KMS, with credentials for this account:
  npm run address -- --kms-key-id $ARN
EOF
if [[ $KEY_FILE != - ]]; then
  echo "The key is now in KMS. Delete the key file from this machine if it has no other purpose: shred -u $SHOWN_KEY"
fi
