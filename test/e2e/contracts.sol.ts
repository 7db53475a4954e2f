// The contracts the message-signing end-to-end test compiles and deploys on anvil (the Safe comes from its npm artifacts).
export const E2E_CONTRACTS = `
// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

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
`;
