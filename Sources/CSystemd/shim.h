#ifndef KARST_CSYSTEMD_SHIM_H
#define KARST_CSYSTEMD_SHIM_H
// libsystemd's daemon, journal and bus APIs. Swift cannot call C variadics (sd_notifyf,
// sd_journal_send, sd_bus_call_method, sd_bus_message_append), so the Swift side uses sd_notify,
// sd_journal_sendv, and sd_bus_message_new_method_call with sd_bus_message_append_basic and
// the container calls.
#include <sys/uio.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#endif
