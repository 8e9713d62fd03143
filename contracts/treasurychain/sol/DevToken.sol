// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title DevToken: an OpenZeppelin ERC-20 with its own decimals and one minter, for dev chains.
/// @notice Stands in for the treasury's stablecoins and wrapped assets on the embedded chain. The
/// minter (the deployer) can create supply: never use it for anything of value.
contract DevToken is ERC20 {
    uint8 private immutable _decimals;
    address public immutable minter;

    error NotMinter();

    constructor(string memory name_, string memory symbol_, uint8 decimals_) ERC20(name_, symbol_) {
        _decimals = decimals_;
        minter = msg.sender;
    }

    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    function mint(address to, uint256 amount) external {
        if (msg.sender != minter) revert NotMinter();
        _mint(to, amount);
    }
}
