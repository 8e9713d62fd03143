// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {AggregatorV3Interface} from "./AggregatorV3Interface.sol";

/// @title Solvency attestation registry
/// @notice Records, one cycle at a time, a treasury's zero-knowledge attestation that its reserves
/// cover its users' balances and that its risk limits hold. The registry never takes a public input
/// from calldata: it builds every Groth16 public input itself from values it checked (the policy
/// hash governance stored, oracle answers it read and normalised, and typed statement fields), so a
/// proof verifies only for the statement this contract records.
/// @dev Public inputs, in order (docs/design.md, "The solvency statement"):
///   0: policyHash, 1: LC, 2: RC,
///   3: cycle | reservesBlock << 64 | snapshotEpoch << 128 | snapshotTime << 192,
///   4 + i/4: price_i << (63 * (i % 4)), each normalised price in [1, 2^63).
/// Storage holds only a hash of each attestation; the full record is in the
/// `AttestationPublished` event, whose data is exactly `abi.encode(record)`, so a client checks an
/// event against storage with `keccak256(log.data) == attestationHash(cycle)`.
/// Across attestations: cycles strictly increase; one snapshot epoch is one snapshot (the same
/// epoch repeats the same LC and snapshot time, a later epoch is taken strictly later); reserves
/// blocks never go back and are at most `maxReservesAge` blocks old when recorded (S7, R1).
/// Governance: every power (policy hash, prover, auditor set, feeds, governance itself) changes
/// only through announceChange, then applyChange at least the immutable `delay` later, with
/// events; only the first policy, while none is in force, is set at once (docs/governance.md).
/// Auditors countersign a cycle's (RC, reserves block) after checking the reserves on chain (R1).
/// Prices (P2): each price is its feed's latest round when the statement is published, so the
/// prover cannot pick a flattering older round; and each feed's round id never goes back from
/// one attestation to the next (the last recorded round per feed is stored).
contract SolvencyRegistry {
    // ---------------------------------------------------------------- errors

    /// @notice The caller is not the registered prover.
    error NotProver(address caller);
    /// @notice The caller is not governance.
    error NotGovernance(address caller);
    /// @notice The caller of applyChange(Governance) is not the announced new governance.
    error NotNewGovernance(address caller, address announced);
    /// @notice The caller is not in the auditor set.
    error NotAuditor(address caller);
    /// @notice The statement names a policy other than the one governance set.
    error PolicyMismatch(bytes32 stored, bytes32 claimed);
    /// @notice Governance has not set a policy hash yet.
    error PolicyNotSet();
    /// @notice The cycle is not strictly greater than the latest published one.
    error CycleNotIncreasing(uint64 cycle, uint64 latestCycle);
    /// @notice The liabilities snapshot is older than the latest published one.
    error SnapshotTooOld(uint64 snapshotEpoch, uint64 latestSnapshotEpoch);
    /// @notice The statement names the latest published snapshot epoch but another LC or snapshot
    /// time than the latest attestation: one snapshot epoch means one snapshot (S7).
    error SnapshotMismatch(
        uint64 snapshotEpoch, uint256 latestLc, uint256 lc, uint40 latestSnapshotTime, uint40 snapshotTime
    );
    /// @notice A newer snapshot epoch does not claim a snapshot time strictly after the latest
    /// published one (S7): a new epoch is a new snapshot, taken later.
    error SnapshotTimeNotIncreasing(uint64 snapshotEpoch, uint40 snapshotTime, uint40 latestSnapshotTime);
    /// @notice The reserves block lies before the latest attestation's reserves block.
    error ReservesBlockRegressed(uint64 reservesBlock, uint64 latestReservesBlock);
    /// @notice The reserves block is more than `maxReservesAge` blocks behind the current block.
    error ReservesBlockTooOld(uint64 reservesBlock, uint256 blockNumber, uint256 maxReservesAge);
    /// @notice The snapshot time lies after the current block's time.
    error SnapshotInFuture(uint40 snapshotTime, uint256 blockTime);
    /// @notice The reserves block lies after the current block.
    error ReservesBlockInFuture(uint64 reservesBlock, uint256 blockNumber);
    /// @notice A field element is not below the BN254 scalar field modulus.
    error NotInField(uint256 value);
    /// @notice The statement has the wrong number of assets.
    error WrongAssetCount(uint256 expected, uint256 roundIds, uint256 prices);
    /// @notice The feed could not serve its latest round.
    error RoundUnavailable(uint256 asset, uint80 roundId);
    /// @notice The statement names a round that is not the feed's latest (P2): an older round,
    /// however fresh and complete, lets the prover choose its price.
    error RoundNotLatest(uint256 asset, uint80 roundId, uint80 latestRoundId);
    /// @notice The feed's round id went back below the round recorded by an earlier attestation
    /// for the same feed (P2).
    error RoundRegressed(uint256 asset, uint80 roundId, uint80 lastRoundId);
    /// @notice The round is not complete (no update time, or answered in an earlier round).
    error IncompleteRound(uint256 asset, uint80 roundId);
    /// @notice The oracle answer is zero or negative.
    error NonPositivePrice(uint256 asset, uint80 roundId, int256 answer);
    /// @notice The round is older than the feed's heartbeat allows (or lies in the future).
    error StalePrice(uint256 asset, uint80 roundId, uint256 updatedAt, uint256 heartbeat);
    /// @notice The feed has more decimals than the registry supports.
    error UnsupportedDecimals(uint256 asset, uint8 decimals);
    /// @notice The normalised price is zero or does not fit a 63-bit limb.
    error PriceOutOfRange(uint256 asset, uint256 price);
    /// @notice The statement's price differs from the oracle's normalised answer at its round.
    error PriceMismatch(uint256 asset, uint256 oraclePrice, uint256 claimedPrice);
    /// @notice The proof does not verify for the public inputs the registry built.
    error ProofInvalid();
    /// @notice The bundle URI is longer than MAX_URI_BYTES.
    error BundleUriTooLong(uint256 length);
    /// @notice A constructor or governance argument is unusable.
    error InvalidArgument(string what);
    /// @notice The governance delay is above MAX_DELAY.
    error DelayOutOfRange(uint256 delay, uint256 maximum);
    /// @notice A feed's heartbeat is zero or above MAX_HEARTBEAT.
    error HeartbeatOutOfRange(uint256 asset, uint32 heartbeat, uint32 maximum);
    /// @notice The reserves block age limit is zero or above MAX_RESERVES_AGE.
    error ReservesAgeOutOfRange(uint256 maxReservesAge, uint256 maximum);
    /// @notice No change of this power is announced.
    error NoPendingChange(Power power);
    /// @notice The value given to applyChange is not the one announced.
    error ChangeMismatch(Power power, bytes32 announced, bytes32 given);
    /// @notice The announced change is still inside its delay.
    error ChangeTimelocked(Power power, uint256 eta, uint256 blockTime);
    /// @notice A policy is in force: a new one goes through announceChange and the delay.
    error PolicyInForce(bytes32 policyHash);
    /// @notice The auditor set is longer than MAX_AUDITORS, or names zero or the same address twice.
    error BadAuditorSet(uint256 index);
    /// @notice No attestation is recorded for the cycle.
    error NoAttestation(uint64 cycle);
    /// @notice The record given is not the one whose hash the registry stores for the cycle.
    error RecordMismatch(uint64 cycle);
    /// @notice The countersigned RC or reserves block is not the recorded attestation's.
    error CountersignMismatch(uint64 cycle, uint256 recordedRc, uint256 rc, uint64 recordedReservesBlock, uint64 reservesBlock);
    /// @notice This auditor already countersigned this cycle.
    error AlreadyCountersigned(uint64 cycle, address auditor);

    // ---------------------------------------------------------------- events

    /// @notice A cycle's attestation was verified and recorded.
    /// @param cycle the treasury cycle (indexed: filter on it to fetch a cycle's record)
    /// @param attestationHash keccak256 of the event data, equal to `attestationHash(cycle)`
    /// @param record every field of the attestation
    event AttestationPublished(uint64 indexed cycle, bytes32 indexed attestationHash, Record record);
    /// @notice Governance set a new policy hash.
    event PolicyHashSet(bytes32 previous, bytes32 current);
    /// @notice Governance set a new prover.
    event ProverSet(address previous, address current);
    /// @notice The announced governance took the role.
    event GovernanceTransferred(address previous, address current);
    /// @notice New feeds took effect.
    event FeedsApplied(address[] aggregators, uint32[] heartbeats);
    /// @notice A new auditor set took effect.
    event AuditorsSet(address[] auditors);
    /// @notice Governance announced a change of `power` to `value` (its ABI encoding), which can
    /// be applied from `eta` on.
    event ChangeAnnounced(Power indexed power, bytes value, uint256 eta);
    /// @notice An announced change took effect.
    event ChangeApplied(Power indexed power, bytes value);
    /// @notice Governance withdrew the announced change whose value hashes to `valueHash`.
    event ChangeCancelled(Power indexed power, bytes32 valueHash);
    /// @notice An auditor checked a cycle's reserves against the chain and countersigned its
    /// (cycle, RC, reserves block) (R1).
    event Countersigned(uint64 indexed cycle, address indexed auditor, uint256 rc, uint64 reservesBlock);

    // ---------------------------------------------------------------- types

    /// @notice Every governance power. Each changes only through announceChange, then, at least
    /// `delay` seconds later, applyChange (or is withdrawn with cancelChange), with events.
    /// Values are ABI-encoded: PolicyHash (bytes32), Prover (address), Auditors (address[]),
    /// Feeds (address[] aggregators, uint32[] heartbeats), Governance (address).
    enum Power {
        PolicyHash,
        Prover,
        Auditors,
        Feeds,
        Governance
    }

    /// @notice An announced change: the keccak256 of its value and when it may be applied.
    struct Pending {
        bytes32 valueHash;
        uint64 eta;
    }

    /// @notice What the prover submits with a proof: the statement's typed fields.
    /// @dev `prices` are the oracle answers normalised to 8 decimals, as the prover used them; the
    /// registry recomputes each from its feed's round and reverts with `PriceMismatch` on any
    /// difference, so the public inputs always come from the oracle.
    struct Statement {
        bytes32 policyHash;
        uint256 lc;
        uint256 rc;
        uint64 cycle;
        uint64 reservesBlock;
        uint64 snapshotEpoch;
        uint40 snapshotTime;
        uint80[] roundIds;
        uint64[] prices;
        bytes32 bundleDigest;
        string bundleUri;
    }

    /// @notice The full attestation, as emitted and hashed.
    struct Record {
        uint64 cycle;
        uint64 reservesBlock;
        uint64 snapshotEpoch;
        uint40 snapshotTime;
        uint40 publishedAt;
        uint64 publishedBlock;
        bytes32 policyHash;
        uint256 lc;
        uint256 rc;
        uint64[] prices;
        uint80[] roundIds;
        bytes32 bundleDigest;
        string bundleUri;
    }

    /// @notice A registered oracle: its address and the longest age a round may have.
    struct Feed {
        address aggregator;
        uint32 heartbeat;
    }

    // Everything publish needs about the latest attestation, in one storage slot. `initialized`
    // is set by the constructor so that the slot is never zero: the first publish then pays for
    // an update of the slot, not for its creation.
    struct Latest {
        uint64 cycle;
        uint64 snapshotEpoch;
        uint40 count;
        uint40 publishedAt;
        uint40 snapshotTime;
        bool initialized;
    }

    // ---------------------------------------------------------------- constants and immutables

    /// @notice The BN254 scalar field modulus: every public input must be below it.
    uint256 public constant FIELD_MODULUS =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @notice The largest number of assets a registry can be built for (bounds every loop).
    uint256 public constant MAX_ASSETS = 64;
    /// @notice Prices are normalised to this many decimals (USD with 8 decimals).
    uint8 public constant PRICE_DECIMALS = 8;
    /// @notice The longest bundle URI accepted, in bytes (keeps events bounded).
    uint256 public constant MAX_URI_BYTES = 512;
    /// @notice Feeds with more decimals than this are refused (10**(d-8) must not overflow).
    uint8 public constant MAX_FEED_DECIMALS = 36;
    /// @notice The longest governance delay a registry accepts: longer would only lock governance
    /// out of replacing a broken feed or a lost key. The shortest is zero, for development chains
    /// only: `solvency contracts check` warns about it (docs/governance.md).
    uint256 public constant MAX_DELAY = 30 days;
    /// @notice The largest auditor set (bounds the loops that replace it).
    uint256 public constant MAX_AUDITORS = 16;
    /// @notice The longest heartbeat a feed may be registered with (P1): a price may be at most a
    /// week old, whatever governance proposes.
    uint32 public constant MAX_HEARTBEAT = 7 days;
    /// @notice The largest `maxReservesAge` (in blocks) a registry accepts: about 139 days at 12 s
    /// blocks, about 2.9 days at 0.25 s blocks.
    uint256 public constant MAX_RESERVES_AGE = 1_000_000;

    uint256 private constant PRICE_LIMIT = 1 << 63;
    uint256 private constant LIMB_BITS = 63;
    uint256 private constant PRICES_PER_WORD = 4;
    uint256 private constant FIXED_INPUTS = 4;
    uint256 private constant PROOF_LENGTH = 256;
    // The last recorded round id per feed: three 80-bit ids per storage word, asset i in word
    // i / 3 at bit 80 * (i % 3). Bit 255 is always set so a word is never zero: publish then pays
    // for updating it, not for creating it.
    uint256 private constant ROUND_BITS = 80;
    uint256 private constant ROUNDS_PER_WORD = 3;
    uint256 private constant ROUND_MASK = (1 << 80) - 1;
    uint256 private constant ROUND_WORD_SET = 1 << 255;

    /// @notice The generated Groth16 verifier; immutable so it can never be swapped (V2).
    address public immutable verifier;
    /// @notice The number of assets, hence of feeds and of prices in every statement.
    uint256 public immutable numAssets;
    /// @notice The number of Groth16 public inputs: 4 + ceil(numAssets / 4).
    uint256 public immutable numPublicInputs;
    /// @notice Seconds between announcing and applying any governance change, in [0, MAX_DELAY].
    uint256 public immutable delay;
    /// @notice The most blocks a statement's reserves block may lie behind the block that
    /// records it (R1, S7), in [1, MAX_RESERVES_AGE].
    uint256 public immutable maxReservesAge;
    // The verifier's function takes a fixed-size array, so its selector depends on the input count.
    bytes4 private immutable verifySelector;

    // ---------------------------------------------------------------- storage

    /// @notice The address that announces and applies changes of every power.
    address public governance;
    /// @notice The only address allowed to publish.
    address public prover;
    // The latest attestation's reserves block. It shares prover's slot on purpose: publish reads
    // that slot anyway (the NotProver check), so keeping the reserves block there costs a warm
    // update instead of a cold slot.
    uint64 private latestReservesBlock;
    /// @notice The hash of the policy every proof must be made under; it binds this chain and
    /// this registry (S6).
    bytes32 public policyHash;

    mapping(uint256 asset => Feed) private feeds;
    Latest private latest;
    // The latest attestation's liabilities commitment. Before the first attestation it holds
    // FIELD_MODULUS (never a valid LC), so the slot is never zero and the first publish updates
    // it rather than creating it. It is written only when the snapshot epoch changes: within an
    // epoch the LC cannot change (SnapshotMismatch).
    uint256 private latestLc;

    /// @notice keccak256 of each recorded attestation's event data, by cycle (0 if none).
    mapping(uint64 cycle => bytes32) public attestationHash;
    // The round ids the latest attestation named, packed (see ROUND_BITS); a feed replaced by
    // applyFeeds starts again from 0.
    mapping(uint256 word => uint256) private lastRounds;

    // The announced change of each power, if any (eta 0: none).
    mapping(Power power => Pending) private pending;
    // The auditor set, in the order governance gave it.
    address[] private auditorList;
    /// @notice Whether an address is in the auditor set now.
    mapping(address account => bool) public isAuditor;
    /// @notice Whether an auditor countersigned a cycle.
    mapping(uint64 cycle => mapping(address auditor => bool)) public countersigned;
    /// @notice How many auditors countersigned a cycle.
    mapping(uint64 cycle => uint256) public countersignCount;

    // ---------------------------------------------------------------- construction

    /// @param verifier_ the generated Groth16 verifier for the solvency circuit over numAssets_
    /// @param numAssets_ the number of assets of the circuit and of the feeds
    /// @param governance_ the governance address
    /// @param prover_ the address allowed to publish
    /// @param aggregators the price feed of each asset, in the asset table's slot order
    /// @param heartbeats the longest accepted age, in seconds, of each feed's round
    /// @param delay_ the governance delay, in seconds, in [0, MAX_DELAY]: every later change of
    /// the policy hash, the prover, the auditors, the feeds and governance waits this long
    /// @param maxReservesAge_ the most blocks a statement's reserves block may lie behind the
    /// recording block, in [1, MAX_RESERVES_AGE]
    /// @param policyHash_ the policy in force from deployment, or zero when it is not known yet
    /// (its preimage names this registry's address): setInitialPolicyHash then sets it once
    /// @param auditors_ the auditor set in force from deployment (may be empty)
    constructor(
        address verifier_,
        uint256 numAssets_,
        address governance_,
        address prover_,
        address[] memory aggregators,
        uint32[] memory heartbeats,
        uint256 delay_,
        uint256 maxReservesAge_,
        bytes32 policyHash_,
        address[] memory auditors_
    ) {
        if (verifier_.code.length == 0) revert InvalidArgument("verifier has no code");
        if (numAssets_ == 0 || numAssets_ > MAX_ASSETS) revert InvalidArgument("numAssets");
        if (governance_ == address(0)) revert InvalidArgument("governance");
        if (prover_ == address(0)) revert InvalidArgument("prover");
        if (delay_ > MAX_DELAY) revert DelayOutOfRange(delay_, MAX_DELAY);
        if (maxReservesAge_ == 0 || maxReservesAge_ > MAX_RESERVES_AGE) {
            revert ReservesAgeOutOfRange(maxReservesAge_, MAX_RESERVES_AGE);
        }
        verifier = verifier_;
        numAssets = numAssets_;
        uint256 inputs = FIXED_INPUTS + (numAssets_ + PRICES_PER_WORD - 1) / PRICES_PER_WORD;
        numPublicInputs = inputs;
        delay = delay_;
        maxReservesAge = maxReservesAge_;
        verifySelector = bytes4(keccak256(abi.encodePacked("verifyProof(bytes,uint256[", _decimal(inputs), "])")));
        governance = governance_;
        prover = prover_;
        latest.initialized = true;
        latestLc = FIELD_MODULUS;
        for (uint256 w = 0; w * ROUNDS_PER_WORD < numAssets_; w++) {
            lastRounds[w] = ROUND_WORD_SET;
        }
        _checkFeeds(aggregators, heartbeats);
        for (uint256 i = 0; i < aggregators.length; i++) {
            feeds[i] = Feed(aggregators[i], heartbeats[i]);
        }
        emit GovernanceTransferred(address(0), governance_);
        emit ProverSet(address(0), prover_);
        emit FeedsApplied(aggregators, heartbeats);
        _setAuditors(auditors_);
        if (policyHash_ != bytes32(0)) _setPolicyHash(policyHash_);
    }

    modifier onlyGovernance() {
        if (msg.sender != governance) revert NotGovernance(msg.sender);
        _;
    }

    // ---------------------------------------------------------------- publishing

    /// @notice Verifies a cycle's proof against the statement and records the attestation.
    /// @dev All external calls (feeds, verifier) are STATICCALLs made before any state change, so
    /// no callee can re-enter with state half-updated.
    /// @param s the statement's typed fields
    /// @param proof the Groth16 proof in the verifier's 256-byte uncompressed layout
    function publish(Statement calldata s, bytes calldata proof) external {
        if (msg.sender != prover) revert NotProver(msg.sender);
        Latest memory last = latest;
        if (last.count != 0 && s.cycle <= last.cycle) revert CycleNotIncreasing(s.cycle, last.cycle);
        if (s.snapshotEpoch < last.snapshotEpoch) revert SnapshotTooOld(s.snapshotEpoch, last.snapshotEpoch);
        bool newSnapshot = last.count == 0 || s.snapshotEpoch != last.snapshotEpoch;
        if (last.count != 0) {
            // S7: one snapshot epoch is one snapshot. The same epoch must repeat the latest LC
            // and snapshot time; a later epoch must claim a strictly later snapshot time.
            if (!newSnapshot) {
                uint256 lastLc = latestLc;
                if (s.lc != lastLc || s.snapshotTime != last.snapshotTime) {
                    revert SnapshotMismatch(s.snapshotEpoch, lastLc, s.lc, last.snapshotTime, s.snapshotTime);
                }
            } else if (s.snapshotTime <= last.snapshotTime) {
                revert SnapshotTimeNotIncreasing(s.snapshotEpoch, s.snapshotTime, last.snapshotTime);
            }
            // R1: reserves are claimed at a block no earlier than the latest attestation's.
            uint64 lastReserves = latestReservesBlock;
            if (s.reservesBlock < lastReserves) revert ReservesBlockRegressed(s.reservesBlock, lastReserves);
        }

        (uint256[] memory input, uint64[] memory prices, uint256[] memory rounds) = _publicInputs(s);
        _verify(proof, input);

        Record memory r = Record({
            cycle: s.cycle,
            reservesBlock: s.reservesBlock,
            snapshotEpoch: s.snapshotEpoch,
            snapshotTime: s.snapshotTime,
            publishedAt: uint40(block.timestamp),
            publishedBlock: uint64(block.number),
            policyHash: s.policyHash,
            lc: s.lc,
            rc: s.rc,
            prices: prices,
            roundIds: s.roundIds,
            bundleDigest: s.bundleDigest,
            bundleUri: s.bundleUri
        });
        bytes memory data = abi.encode(r);
        bytes32 h = keccak256(data);
        attestationHash[s.cycle] = h;
        // P2: remember each feed's round, so a later attestation cannot name an earlier one.
        for (uint256 w = 0; w < rounds.length; w++) {
            lastRounds[w] = rounds[w];
        }
        latest = Latest({
            cycle: s.cycle,
            snapshotEpoch: s.snapshotEpoch,
            count: last.count + 1,
            publishedAt: uint40(block.timestamp),
            snapshotTime: s.snapshotTime,
            initialized: true
        });
        latestReservesBlock = s.reservesBlock;
        if (newSnapshot) latestLc = s.lc;
        // emit AttestationPublished(s.cycle, h, r), reusing the encoding just hashed instead of
        // encoding the record a second time: the event data of a single dynamic tuple is exactly
        // abi.encode(r).
        bytes32 topic0 = AttestationPublished.selector;
        uint256 cycleTopic = s.cycle;
        assembly ("memory-safe") {
            log3(add(data, 0x20), mload(data), topic0, cycleTopic, h)
        }
    }

    /// @notice The public inputs the registry would verify `s` against now, after every check
    /// `publish` makes on the statement and the oracles, the rounds' order included (not the
    /// prover, cycle, snapshot sequence, reserves block order or proof checks).
    /// @dev For clients and tests: the Go packing must produce exactly these words.
    function publicInputs(Statement calldata s) external view returns (uint256[] memory input) {
        (input,,) = _publicInputs(s);
    }

    // Checks the statement and the oracles and builds the public inputs, the normalised prices
    // and the packed round words that publish records (see ROUND_BITS).
    function _publicInputs(Statement calldata s)
        private
        view
        returns (uint256[] memory input, uint64[] memory prices, uint256[] memory rounds)
    {
        bytes32 stored = policyHash;
        if (stored == bytes32(0)) revert PolicyNotSet();
        if (s.policyHash != stored) revert PolicyMismatch(stored, s.policyHash);
        if (s.lc >= FIELD_MODULUS) revert NotInField(s.lc);
        if (s.rc >= FIELD_MODULUS) revert NotInField(s.rc);
        if (s.snapshotTime > block.timestamp) revert SnapshotInFuture(s.snapshotTime, block.timestamp);
        // At most the current block, so a statement built at the latest block passes gas estimation
        // (which runs against that block) as well as execution in the next one.
        if (s.reservesBlock > block.number) revert ReservesBlockInFuture(s.reservesBlock, block.number);
        // R1: reserves claimed at a block long past say little about the treasury now.
        if (block.number - s.reservesBlock > maxReservesAge) {
            revert ReservesBlockTooOld(s.reservesBlock, block.number, maxReservesAge);
        }
        if (bytes(s.bundleUri).length > MAX_URI_BYTES) revert BundleUriTooLong(bytes(s.bundleUri).length);
        uint256 n = numAssets;
        if (s.roundIds.length != n || s.prices.length != n) {
            revert WrongAssetCount(n, s.roundIds.length, s.prices.length);
        }

        input = new uint256[](numPublicInputs);
        input[0] = uint256(stored);
        input[1] = s.lc;
        input[2] = s.rc;
        // 64 + 64 + 64 + 40 = 232 bits, below the field modulus.
        input[3] = uint256(s.cycle) | (uint256(s.reservesBlock) << 64) | (uint256(s.snapshotEpoch) << 128)
            | (uint256(s.snapshotTime) << 192);
        prices = new uint64[](n);
        rounds = new uint256[]((n + ROUNDS_PER_WORD - 1) / ROUNDS_PER_WORD);
        uint256 previous;
        for (uint256 i = 0; i < n; i++) {
            uint256 w = i / ROUNDS_PER_WORD;
            uint256 shift = ROUND_BITS * (i % ROUNDS_PER_WORD);
            if (shift == 0) {
                previous = lastRounds[w];
                rounds[w] = ROUND_WORD_SET;
            }
            uint80 roundId = s.roundIds[i];
            uint256 p = _oraclePrice(i, roundId, uint80(previous >> shift));
            rounds[w] |= uint256(roundId) << shift;
            if (p != s.prices[i]) revert PriceMismatch(i, p, s.prices[i]);
            prices[i] = uint64(p);
            // Four 63-bit limbs: at most 252 bits, below the field modulus.
            input[FIXED_INPUTS + i / PRICES_PER_WORD] |= p << (LIMB_BITS * (i % PRICES_PER_WORD));
        }
    }

    // Reads asset i's latest round, checks it is the named round (P2), not below the round the
    // previous attestation recorded for this feed (P2), complete, positive and fresh (P1), and
    // normalises it to PRICE_DECIMALS exactly as the Go code does: answer * 10^(8-d) for
    // d <= 8, else floor(answer / 10^(d-8)). latestRoundData answers the named round's data, as
    // getRoundData(roundId) would, once the ids are equal: one call checks both.
    function _oraclePrice(uint256 i, uint80 roundId, uint80 previousRound) private view returns (uint256 price) {
        Feed memory f = feeds[i];
        AggregatorV3Interface agg = AggregatorV3Interface(f.aggregator);
        int256 answer;
        uint256 updatedAt;
        try agg.latestRoundData() returns (
            uint80 gotRound, int256 gotAnswer, uint256, uint256 gotUpdatedAt, uint80 answeredInRound
        ) {
            if (gotRound != roundId) revert RoundNotLatest(i, roundId, gotRound);
            if (gotUpdatedAt == 0 || answeredInRound < roundId) revert IncompleteRound(i, roundId);
            answer = gotAnswer;
            updatedAt = gotUpdatedAt;
        } catch {
            revert RoundUnavailable(i, roundId);
        }
        if (roundId < previousRound) revert RoundRegressed(i, roundId, previousRound);
        if (answer <= 0) revert NonPositivePrice(i, roundId, answer);
        if (updatedAt > block.timestamp || block.timestamp - updatedAt > f.heartbeat) {
            revert StalePrice(i, roundId, updatedAt, f.heartbeat);
        }
        uint8 d = agg.decimals();
        if (d > MAX_FEED_DECIMALS) revert UnsupportedDecimals(i, d);
        uint256 a = uint256(answer);
        if (d <= PRICE_DECIMALS) {
            // Refuse before scaling so the product cannot overflow.
            if (a >= PRICE_LIMIT) revert PriceOutOfRange(i, a);
            price = a * 10 ** (PRICE_DECIMALS - d);
        } else {
            price = a / 10 ** (d - PRICE_DECIMALS);
        }
        if (price == 0 || price >= PRICE_LIMIT) revert PriceOutOfRange(i, price);
    }

    // Calls the generated verifier's verifyProof(bytes, uint256[N]). The fixed-size array is encoded
    // inline, so the calldata is: selector, offset of the proof, N words, proof length, proof.
    function _verify(bytes calldata proof, uint256[] memory input) private view {
        if (proof.length != PROOF_LENGTH) revert ProofInvalid();
        bytes memory data =
            abi.encodePacked(verifySelector, (input.length + 1) * 32, input, PROOF_LENGTH, proof);
        (bool ok,) = verifier.staticcall(data);
        if (!ok) revert ProofInvalid();
    }

    // ---------------------------------------------------------------- governance

    /// @notice Sets the first policy hash at once, only while none is in force: until then no
    /// proof can be published, so there is nothing the first policy could loosen. Every later
    /// policy goes through announceChange and the delay. The policy's preimage contains this
    /// chain's id and this registry's address (S6), so it is often known only after deployment.
    function setInitialPolicyHash(bytes32 newPolicyHash) external onlyGovernance {
        if (policyHash != bytes32(0)) revert PolicyInForce(policyHash);
        _setPolicyHash(newPolicyHash);
    }

    /// @notice Announces a change of `power` to `value` (ABI-encoded, see Power). It is checked
    /// now, and can be applied `delay` seconds from now. Announcing again replaces a pending
    /// announcement of the same power and restarts its delay.
    function announceChange(Power power, bytes calldata value) external onlyGovernance {
        _apply(power, value, false);
        uint256 eta = block.timestamp + delay;
        pending[power] = Pending(keccak256(value), uint64(eta));
        emit ChangeAnnounced(power, value, eta);
    }

    /// @notice Applies the announced change of `power` once its delay has passed; `value` must be
    /// the announced one. Governance applies every power but its own: a new governance applies
    /// its own appointment, which shows that its key works.
    function applyChange(Power power, bytes calldata value) external {
        Pending memory p = pending[power];
        if (p.eta == 0) revert NoPendingChange(power);
        bytes32 h = keccak256(value);
        if (h != p.valueHash) revert ChangeMismatch(power, p.valueHash, h);
        if (power == Power.Governance) {
            // The announced value was checked to decode when it was announced.
            address next = abi.decode(value, (address));
            if (msg.sender != next) revert NotNewGovernance(msg.sender, next);
        } else if (msg.sender != governance) {
            revert NotGovernance(msg.sender);
        }
        if (block.timestamp < p.eta) revert ChangeTimelocked(power, p.eta, block.timestamp);
        delete pending[power];
        _apply(power, value, true);
        emit ChangeApplied(power, value);
    }

    /// @notice Withdraws the announced change of `power`.
    function cancelChange(Power power) external onlyGovernance {
        Pending memory p = pending[power];
        if (p.eta == 0) revert NoPendingChange(power);
        delete pending[power];
        emit ChangeCancelled(power, p.valueHash);
    }

    /// @notice The announced change of `power`: the keccak256 of its value (the value itself is
    /// in the ChangeAnnounced event) and when it may be applied; both zero when none is pending.
    function pendingChange(Power power) external view returns (bytes32 valueHash, uint256 eta) {
        Pending memory p = pending[power];
        return (p.valueHash, p.eta);
    }

    // Decodes and checks a value of `power`; stores it when `set`.
    function _apply(Power power, bytes calldata value, bool set) private {
        if (power == Power.PolicyHash) {
            bytes32 h = abi.decode(value, (bytes32));
            _checkPolicyHash(h);
            if (set) _setPolicyHash(h);
        } else if (power == Power.Prover) {
            address a = abi.decode(value, (address));
            if (a == address(0)) revert InvalidArgument("prover");
            if (set) {
                emit ProverSet(prover, a);
                prover = a;
            }
        } else if (power == Power.Auditors) {
            address[] memory list = abi.decode(value, (address[]));
            _checkAuditors(list);
            if (set) _setAuditors(list);
        } else if (power == Power.Feeds) {
            (address[] memory aggregators, uint32[] memory heartbeats) = abi.decode(value, (address[], uint32[]));
            _checkFeeds(aggregators, heartbeats);
            if (set) _setFeeds(aggregators, heartbeats);
        } else {
            address a = abi.decode(value, (address));
            if (a == address(0)) revert InvalidArgument("governance");
            if (set) {
                emit GovernanceTransferred(governance, a);
                governance = a;
            }
        }
    }

    function _checkPolicyHash(bytes32 h) private pure {
        if (h == bytes32(0)) revert InvalidArgument("policy hash is zero");
        if (uint256(h) >= FIELD_MODULUS) revert NotInField(uint256(h));
    }

    function _setPolicyHash(bytes32 h) private {
        _checkPolicyHash(h);
        emit PolicyHashSet(policyHash, h);
        policyHash = h;
    }

    function _checkAuditors(address[] memory list) private pure {
        if (list.length > MAX_AUDITORS) revert BadAuditorSet(list.length);
        for (uint256 i = 0; i < list.length; i++) {
            if (list[i] == address(0)) revert BadAuditorSet(i);
            for (uint256 j = 0; j < i; j++) {
                if (list[j] == list[i]) revert BadAuditorSet(i);
            }
        }
    }

    function _setAuditors(address[] memory list) private {
        _checkAuditors(list);
        for (uint256 i = 0; i < auditorList.length; i++) {
            isAuditor[auditorList[i]] = false;
        }
        delete auditorList;
        for (uint256 i = 0; i < list.length; i++) {
            isAuditor[list[i]] = true;
            auditorList.push(list[i]);
        }
        emit AuditorsSet(list);
    }

    function _setFeeds(address[] memory aggregators, uint32[] memory heartbeats) private {
        for (uint256 i = 0; i < aggregators.length; i++) {
            if (feeds[i].aggregator != aggregators[i]) {
                // Another feed has its own round ids: its sequence starts again from 0.
                uint256 w = i / ROUNDS_PER_WORD;
                lastRounds[w] &= ~(ROUND_MASK << (ROUND_BITS * (i % ROUNDS_PER_WORD)));
            }
            feeds[i] = Feed(aggregators[i], heartbeats[i]);
        }
        emit FeedsApplied(aggregators, heartbeats);
    }

    // ---------------------------------------------------------------- auditors

    /// @notice Records that the calling auditor checked cycle's reserves against the chain at
    /// the reserves block and found them to be RC (R1). `record` is the cycle's attestation as
    /// its AttestationPublished event carries it; the registry checks it against the hash it
    /// stores, then that `rc` and `reservesBlock` are the recorded ones.
    function countersign(uint64 cycle, uint256 rc, uint64 reservesBlock, Record calldata record) external {
        if (!isAuditor[msg.sender]) revert NotAuditor(msg.sender);
        bytes32 stored = attestationHash[cycle];
        if (stored == bytes32(0)) revert NoAttestation(cycle);
        if (record.cycle != cycle || keccak256(abi.encode(record)) != stored) revert RecordMismatch(cycle);
        if (record.rc != rc || record.reservesBlock != reservesBlock) {
            revert CountersignMismatch(cycle, record.rc, rc, record.reservesBlock, reservesBlock);
        }
        if (countersigned[cycle][msg.sender]) revert AlreadyCountersigned(cycle, msg.sender);
        countersigned[cycle][msg.sender] = true;
        countersignCount[cycle] += 1;
        emit Countersigned(cycle, msg.sender, rc, reservesBlock);
    }

    /// @notice The auditor set now.
    function auditors() external view returns (address[] memory) {
        return auditorList;
    }

    // ---------------------------------------------------------------- views

    /// @notice The feed registered for an asset slot.
    function feed(uint256 asset) external view returns (address aggregator, uint32 heartbeat) {
        Feed memory f = feeds[asset];
        return (f.aggregator, f.heartbeat);
    }

    /// @notice The round id the latest attestation named for an asset slot's feed: the next
    /// attestation must name that feed's latest round, and it must not be below this (P2). Zero
    /// before the first attestation and after the slot's feed is replaced.
    function lastRound(uint256 asset) external view returns (uint80) {
        if (asset >= numAssets) revert InvalidArgument("asset");
        return uint80((lastRounds[asset / ROUNDS_PER_WORD] >> (ROUND_BITS * (asset % ROUNDS_PER_WORD))) & ROUND_MASK);
    }

    /// @notice The latest attestation: its cycle and hash, snapshot (epoch, time), publication
    /// time, the number of attestations recorded, its reserves block and its LC. All zero before
    /// the first.
    function latestAttestation()
        external
        view
        returns (
            uint64 cycle,
            bytes32 hash,
            uint64 snapshotEpoch,
            uint40 snapshotTime,
            uint40 publishedAt,
            uint256 count,
            uint64 reservesBlock,
            uint256 lc
        )
    {
        Latest memory l = latest;
        if (l.count == 0) return (0, bytes32(0), 0, 0, 0, 0, 0, 0);
        return (
            l.cycle,
            attestationHash[l.cycle],
            l.snapshotEpoch,
            l.snapshotTime,
            l.publishedAt,
            l.count,
            latestReservesBlock,
            latestLc
        );
    }

    /// @notice How many blocks the latest attestation's reserves block lies behind the current
    /// block (R1), and that reserves block; both zero before the first attestation.
    function reservesAge() external view returns (uint256 ageBlocks, uint64 reservesBlock) {
        if (latest.count == 0) return (0, 0);
        reservesBlock = latestReservesBlock;
        ageBlocks = block.number - reservesBlock;
    }

    /// @notice The number of attestations recorded.
    function attestationCount() external view returns (uint256) {
        return latest.count;
    }

    /// @notice Whether an attestation exists and the latest was published at most `maxAge`
    /// seconds ago. Its liabilities snapshot may be older: see `latestAttestation().snapshotTime`.
    function isFresh(uint256 maxAge) external view returns (bool) {
        Latest memory l = latest;
        return l.count != 0 && block.timestamp - l.publishedAt <= maxAge;
    }

    // ---------------------------------------------------------------- helpers

    function _checkFeeds(address[] memory aggregators, uint32[] memory heartbeats) private view {
        uint256 n = numAssets;
        if (aggregators.length != n || heartbeats.length != n) revert InvalidArgument("feed count");
        for (uint256 i = 0; i < n; i++) {
            if (aggregators[i].code.length == 0) revert InvalidArgument("feed has no code");
            if (heartbeats[i] == 0 || heartbeats[i] > MAX_HEARTBEAT) {
                revert HeartbeatOutOfRange(i, heartbeats[i], MAX_HEARTBEAT);
            }
        }
    }

    function _decimal(uint256 v) private pure returns (string memory) {
        if (v == 0) return "0";
        uint256 digits;
        for (uint256 t = v; t != 0; t /= 10) digits++;
        bytes memory b = new bytes(digits);
        for (; v != 0; v /= 10) b[--digits] = bytes1(uint8(48 + v % 10));
        return string(b);
    }
}
