// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title Chainlink's price feed interface
/// @notice The subset of Chainlink's `AggregatorV3Interface` that the registry relies on, with
/// Chainlink's own signatures, so any deployed Chainlink feed (or proxy) can be registered.
interface AggregatorV3Interface {
    /// @notice Number of decimals of every answer of this feed (8 for USD pairs, 18 for ETH pairs).
    function decimals() external view returns (uint8);

    /// @notice A human-readable name of the pair, such as "ETH / USD".
    function description() external view returns (string memory);

    /// @notice The version of the aggregator implementation.
    function version() external view returns (uint256);

    /// @notice The data of one round. Reverts when the round does not exist.
    function getRoundData(uint80 roundId)
        external
        view
        returns (uint80 roundId_, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);

    /// @notice The data of the latest round. Reverts when no round exists yet.
    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);
}
