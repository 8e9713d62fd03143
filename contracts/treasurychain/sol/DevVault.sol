// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";

/// @title DevVault: OpenZeppelin's ERC-4626 tokenized vault over one asset, unchanged.
/// @notice The standard interface of Yearn v3, Morpho, Euler and savings-DAI vaults. Yield is
/// whatever the asset balance gains (a transfer into the vault raises every share's value).
contract DevVault is ERC4626 {
    constructor(IERC20 asset_, string memory name_, string memory symbol_) ERC20(name_, symbol_) ERC4626(asset_) {}
}
