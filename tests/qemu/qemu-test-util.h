/* Helpers shared by the qemu/ tests: domain definitions built in C (so
 * the tests do not depend on the XML parser), a fixed fake VdQemuCaps for
 * golden files, and running real QEMU processes that cannot outlive the
 * test (PR_SET_PDEATHSIG), with synchronous QMP calls on top of the async
 * client. */
#pragma once

#include <gio/gio.h>

#include "conf/domain-def.h"
#include "conf/domain-media.h"
#include "qemu/qemu-caps.h"
#include "qemu/qemu-command.h"
#include "qemu/qmp.h"

/* A definition with what conf's defaults would leave: name, uuid, 512 MiB,
 * 1 vCPU, @machine, ACPI, empty device lists. */
VdDomainDef *tdef_new(const char *name, const char *machine);
void tdef_free(VdDomainDef *def);
/* g_autoptr(TDef): conf's own free may not exist yet. */
typedef VdDomainDef TDef;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TDef, tdef_free)

VdDiskDef *tdef_add_disk(VdDomainDef *def, VdDiskDevice device, VdDiskBus bus, const char *target,
                         const char *path, VdDiskFormat format);
VdChrDef *tdef_add_chr(GPtrArray *list, VdChrType type, const char *path);
VdNetDef *tdef_add_net(VdDomainDef *def, VdNetType type, const char *model, const char *mac);
VdGraphicsDef *tdef_add_vnc(VdDomainDef *def, const char *listen, int port, const char *passwd);
VdVideoDef *tdef_add_video(VdDomainDef *def, VdVideoModel model);
VdInputDef *tdef_add_input(VdDomainDef *def, VdInputType type, VdInputBus bus);
/* Through conf's define steps: <domain type='qemu'> "plat" with uuid
 * TDEF_XML_UUID, @memory_mib, x86_64 @machine with @os_extra inside <os>,
 * @top after it, then <devices>@devices</devices>. */
#define TDEF_XML_UUID "c7a5fdbd-cdaf-9455-926a-d65c16db1809"
VdDomainDef *tdef_from_xml(const char *machine, guint memory_mib, const char *os_extra,
                           const char *top, const char *devices);
/* The media family (conf/domain-media.h). A SPICE display (autoport, as
 * the daemon leaves it with its pick in @port) and its SpiceDef with every
 * option unset. */
VdSpiceDef *tdef_add_spice(VdDomainDef *def, const char *listen, int port, const char *passwd);
/* What virt-install adds with SPICE: qxl video (64 MiB ram and vram, 16
 * MiB vgamem) and the SPICE agent's spicevmc channel. */
void tdef_add_spice_desktop(VdDomainDef *def);
VdSoundDef *tdef_add_sound(VdDomainDef *def, const char *model);
void tdef_add_audio(VdDomainDef *def, guint id, const char *type);
/* A USB redirection of @type. */
void tdef_add_redirdev(VdDomainDef *def, const char *type);

/* QEMU 7.2.0 with pc, q35 (and versioned forms), microvm, isapc, none and
 * the devices virtd uses; KVM and TCG. Independent of the installed QEMU. */
VdQemuCaps *tcaps_fake(void);

/* The run paths of the golden files: fixed paths under /run/virtd, TCG,
 * paused; no host facts. Copy it and set what a case needs. */
extern const VdQemuRunPaths trun_paths;
/* test_golden_check() (tests/common/golden.h) of @text against
 * tests/data/argv/@name.args: a failed test if it differs or is missing;
 * under VD_REGENERATE=1 rewrites the file instead. */
void tgolden_check(const char *name, const char *text);
/* Whether @argv holds @opt followed by @value. */
gboolean targv_has(GPtrArray *argv, const char *opt, const char *value);
/* Whether @argv holds @opt anywhere. */
gboolean targv_has_opt(GPtrArray *argv, const char *opt);
/* The build refused: no @argv, @error in VD_ERROR with @code, its message
 * containing @message. */
void targv_assert_refused(GPtrArray *argv, const GError *error, int code, const char *message);

/* The installed QEMU's caps (probed once per process, not cached). */
const VdQemuCaps *tcaps_real(void);

/* Spawns @argv with stdout/stderr to @log_path; the child is SIGKILLed if
 * the test process dies. */
GSubprocess *tqemu_spawn(const char *const *argv, const char *log_path, GError **error);
/* The same, with @fds (ints; taken and emptied) at @first, @first + 1 ... */
GSubprocess *tqemu_spawn_fds(const char *const *argv, const char *log_path, GArray *fds, int first,
                             GError **error);
/* SIGKILL and reap; NULL is fine. */
void tqemu_kill(GSubprocess *proc);
/* g_autoptr(TQemu): killed and reaped when the test function returns. */
typedef GSubprocess TQemu;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TQemu, tqemu_kill)

/* Runs the default main context until *@flag or @timeout_ms; FALSE on
 * timeout. */
gboolean tloop_wait(const gboolean *flag, guint timeout_ms);
/* Waits for @proc to exit, up to @timeout_ms. */
gboolean tqemu_wait_exit(GSubprocess *proc, guint timeout_ms);

/* Connects and waits for ready (10 s). */
VdQmp *tqmp_connect(const char *path, GError **error);
/* The same, failing at once if @proc exits first. */
VdQmp *tqmp_connect_proc(const char *path, GSubprocess *proc, GError **error);
/* Sends and waits for the reply (10 s); the "return" member, or NULL with
 * @error set. Takes @arguments, as vd_qmp_command() does. */
JsonNode *tqmp_call(VdQmp *qmp, const char *command, JsonObject *arguments, GError **error);

/* A fresh temporary directory with a short path (unix sockets). */
char *tmkdtemp(void);
/* rm -r of a directory made by tmkdtemp. */
void trmtree(const char *dir);

/* test_golden_check() of the command as QMP gets it, {"execute": @cmd,
 * "arguments": @args} (@args taken), pretty-printed, against
 * tests/data/@dir/@name.json. */
void tqmp_golden_check(const char *dir, const char *name, const char *cmd, JsonObject *args);
/* @text parsed as JSON (a failed test if it is not). */
JsonNode *tjson_parse(const char *text);
