// The contracts the message-signing end-to-end test deploys on anvil.
export const E2E_CONTRACTS = `
// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

/// OpenZeppelin's ERC-20 with EIP-2612 permit; the whole supply goes to holder.
contract PermitToken is ERC20, ERC20Permit {
    constructor(address holder, uint256 supply) ERC20("Permit Token", "PMT") ERC20Permit("Permit Token") {
        _mint(holder, supply);
    }
}

/// EIP-7702 delegation target: run() writes to the storage of whichever account runs this code.
contract Delegate {
    event Ran(address self, address caller, uint256 amount);
    uint256 public counter;

    function run(uint256 amount) external {
        counter += amount;
        emit Ran(address(this), msg.sender, amount);
    }
}

/// A minimal M-of-N owner multisig in the style of Safe: owners sign an EIP-712 SafeTx, signatures are
/// sorted by owner address (no owner counted twice), at least threshold of them execute the call.
contract MiniSafe is EIP712 {
    bytes32 private constant SAFE_TX_TYPEHASH = keccak256("SafeTx(address to,uint256 value,bytes data,uint256 nonce)");
    mapping(address => bool) public isOwner;
    uint256 public immutable threshold;
    uint256 public nonce;

    constructor(address[] memory owners, uint256 threshold_) EIP712("MiniSafe", "1") {
        for (uint256 i = 0; i < owners.length; i++) isOwner[owners[i]] = true;
        threshold = threshold_;
    }

    receive() external payable {}

    function execTransaction(address to, uint256 value, bytes calldata data, bytes[] calldata signatures) external returns (bytes memory) {
        require(signatures.length >= threshold, "not enough signatures");
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(SAFE_TX_TYPEHASH, to, value, keccak256(data), nonce)));
        address last = address(0);
        for (uint256 i = 0; i < signatures.length; i++) {
            address signer = ECDSA.recover(digest, signatures[i]);
            require(isOwner[signer], "not an owner");
            require(signer > last, "signers not sorted");
            last = signer;
        }
        nonce++;
        (bool ok, bytes memory result) = to.call{value: value}(data);
        require(ok, "call failed");
        return result;
    }
}
`;
