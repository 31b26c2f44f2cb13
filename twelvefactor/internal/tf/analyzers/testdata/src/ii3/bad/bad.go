package bad

import (
	"context"
	"os/exec"
)

func Fetch(ctx context.Context, url string) ([]byte, error) {
	return exec.CommandContext(ctx, "curl", "-s", url).Output() // want `exec.CommandContext runs "curl"`
}

func Dump() error {
	return exec.Command("pg_dump").Run() // want `exec.Command runs "pg_dump"`
}

// Disks returns the tool's failure: the image must provide it.
func Disks() ([]byte, error) {
	out, err := exec.Command("lsblk", "-J").Output() // want `exec.Command runs "lsblk"`
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Linux runs a tool on the Linux path of a platform branch.
func Linux(goos string) error {
	if goos == "linux" {
		return exec.Command("ip", "addr").Run() // want `exec.Command runs "ip"`
	}
	return nil
}

// Devices returns the failure of a tool run through a Cmd value.
func Devices() error {
	cmd := exec.Command("lspci") // want `exec.Command runs "lspci"`
	if err := cmd.Run(); err != nil {
		return err
	}
	return nil
}
