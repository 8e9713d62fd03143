package main

// reportFor renders the operators' report for serve; replaced by the report package's renderer.
func reportFor(string) func() ([]byte, error) { return nil }
