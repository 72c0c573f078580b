package train

import (
	"testing"

	"github.com/asymlab/asym/internal/testmain"
)

func TestMain(m *testing.M) { testmain.Run(m) }
