package suppressed

//twelvefactor:ignore XI1 the appliance build forwards to the host's syslog by contract
import "log/syslog" // want `imports log/syslog`

func New() (*syslog.Writer, error) { return syslog.New(syslog.LOG_INFO, "app") }
