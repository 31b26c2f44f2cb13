package analyzers_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/dozen-go/dozen/twelvefactor/internal/tf/analyzers"
)

// TestDeployBranchLogOnly checks that I2 leaves out a branch on the deploy
// name whose every body only logs or prints, and still reports one that
// sets a mode, writes a response or stops the program. It runs I2 alone:
// the fixtures' log lines are other rules' findings.
func TestDeployBranchLogOnly(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), analyzers.DeployBranch, "i2logged/...")
}
