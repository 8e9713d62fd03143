// Package browsertest runs the users' page and the operators' report in Debian's chromium,
// headless, driven by playwright-core (pinned in package-lock.json here; scripts/setup.sh
// installs both). Its tests start an embedded dev chain, run one proven, published cycle at a
// small size, serve its state with `solvency serve`'s handler, and check the verdicts the page
// shows. Screenshots go to $SOLVENCY_BROWSERTEST_OUT, or out/browsertest in the checkout.
package browsertest
