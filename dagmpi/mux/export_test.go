package mux

// CalibrationPair exports calibrationPair to the tests.
var CalibrationPair = calibrationPair
