#ifndef KARST_CSYSTEMD_SHIM_H
#define KARST_CSYSTEMD_SHIM_H
// libsystemd's daemon and journal APIs. Swift cannot call C variadics (sd_notifyf,
// sd_journal_send), so the Swift side uses sd_notify and sd_journal_sendv.
#include <sys/uio.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#endif
