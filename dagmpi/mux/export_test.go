package mux

// CalibrationPair exports calibrationPair to the tests.
var CalibrationPair = calibrationPair

// TreeReaders exposes treeReaders.
var TreeReaders = treeReaders

// ParseBytes exposes parseBytes.
var ParseBytes = parseBytes
