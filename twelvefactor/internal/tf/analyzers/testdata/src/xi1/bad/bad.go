package bad

import "log/syslog" // want `imports log/syslog \(syslog\); logs belong on stdout`

func New() (*syslog.Writer, error) { return syslog.New(syslog.LOG_INFO, "app") }
