// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {AggregatorV3Interface} from "./AggregatorV3Interface.sol";

/// @title A settable price feed for development chains
/// @notice Implements Chainlink's `AggregatorV3Interface` with Chainlink's round semantics: every
/// update opens a new round with the next id, rounds are never rewritten, `answeredInRound` equals
/// the round id, and unknown rounds revert. Only the owner (the operator of a dev chain) can post
/// answers. This contract is for development and tests only: a production registry points at real
/// Chainlink feeds.
contract DevPriceFeed is AggregatorV3Interface {
    /// @notice Only the owner may post answers.
    error NotOwner(address caller);
    /// @notice The requested round has not been written (Chainlink reverts with "No data present").
    error NoDataPresent(uint80 roundId);
    /// @notice The answer does not fit the feed's 128-bit storage.
    error AnswerOutOfRange(int256 answer);

    /// @notice Emitted for every new answer, as Chainlink aggregators do.
    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);
    /// @notice Emitted when a round starts, as Chainlink aggregators do.
    event NewRound(uint256 indexed roundId, address indexed startedBy, uint256 startedAt);

    // One round fits one storage slot: answer (128 bits) and two 64-bit times.
    struct Round {
        int128 answer;
        uint64 startedAt;
        uint64 updatedAt;
    }

    /// @notice The account allowed to post answers.
    address public immutable owner;
    /// @inheritdoc AggregatorV3Interface
    uint8 public immutable override decimals;
    /// @inheritdoc AggregatorV3Interface
    uint256 public constant override version = 4;
    /// @inheritdoc AggregatorV3Interface
    string public override description;
    // The latest round in one slot (id, answer, time), so latestRoundData, which the registry
    // calls for every asset on every publish, costs one storage read. Its startedAt equals its
    // updatedAt: every round here is started and answered in the same transaction.
    struct LatestRound {
        uint80 roundId;
        int128 answer;
        uint48 updatedAt;
    }

    LatestRound private latest;
    mapping(uint80 roundId => Round) private rounds;

    /// @param decimals_ the number of decimals of every answer
    /// @param description_ the pair's name, such as "BTC / USD"
    /// @param initialAnswer the first round's answer
    constructor(uint8 decimals_, string memory description_, int256 initialAnswer) {
        owner = msg.sender;
        decimals = decimals_;
        description = description_;
        _update(initialAnswer);
    }

    /// @notice Posts a new answer as a new round timestamped with the current block.
    /// @return roundId the id of the new round
    function updateAnswer(int256 answer) external returns (uint80 roundId) {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        return _update(answer);
    }

    /// @inheritdoc AggregatorV3Interface
    function getRoundData(uint80 roundId)
        external
        view
        override
        returns (uint80, int256, uint256, uint256, uint80)
    {
        return _round(roundId);
    }

    /// @inheritdoc AggregatorV3Interface
    function latestRoundData() external view override returns (uint80, int256, uint256, uint256, uint80) {
        LatestRound memory l = latest;
        if (l.roundId == 0) revert NoDataPresent(0);
        return (l.roundId, l.answer, l.updatedAt, l.updatedAt, l.roundId);
    }

    /// @notice The id of the latest round; 0 before the first answer.
    function latestRound() external view returns (uint80) {
        return latest.roundId;
    }

    /// @notice The latest answer (Chainlink's v2 interface).
    function latestAnswer() external view returns (int256) {
        return latest.answer;
    }

    /// @notice The latest round's update time (Chainlink's v2 interface).
    function latestTimestamp() external view returns (uint256) {
        return latest.updatedAt;
    }

    function _update(int256 answer) private returns (uint80 roundId) {
        if (answer > type(int128).max || answer < type(int128).min) revert AnswerOutOfRange(answer);
        roundId = latest.roundId + 1;
        latest = LatestRound({roundId: roundId, answer: int128(answer), updatedAt: uint48(block.timestamp)});
        rounds[roundId] = Round({answer: int128(answer), startedAt: uint64(block.timestamp), updatedAt: uint64(block.timestamp)});
        emit NewRound(roundId, msg.sender, block.timestamp);
        emit AnswerUpdated(answer, roundId, block.timestamp);
    }

    function _round(uint80 roundId) private view returns (uint80, int256, uint256, uint256, uint80) {
        // Every written round has updatedAt != 0 (block times are positive), so one storage read
        // answers both "does it exist" and "what is it".
        Round memory r = rounds[roundId];
        if (r.updatedAt == 0) revert NoDataPresent(roundId);
        return (roundId, r.answer, r.startedAt, r.updatedAt, roundId);
    }
}
