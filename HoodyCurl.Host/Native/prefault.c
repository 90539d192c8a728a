/*
 * Linked into the Native AOT executable (HoodyCurl.Host.csproj): a constructor that runs before the .NET runtime
 * starts and faults in, with one madvise call, the executable's zero-initialised data segment (.bss and the
 * .hydrated section, ~4.3 MiB). The runtime's first step (StartupCodeHelpers.RehydrateData) writes nearly every
 * page of it, and one page fault at a time cost ~12-17 us each on a paravirtualised VM (~1,040 faults, a third of
 * all the process takes before its first answer). Populating the range in one call, as 2 MiB pages where
 * transparent huge pages are allowed, took start -> first relayed 200 from 93.0 to 81.1 ms (20 interleaved starts,
 * pinned, polled as the shared rig does) and --version's page faults from 1,494 to ~425 (issue 13, bench/RESULTS.md,
 * sixteenth session). The pages are resident anyway by the time the sidecar answers: idle RSS unchanged.
 *
 * Nothing here can fail the start: on a kernel without MADV_POPULATE_WRITE (before 5.14) or with transparent huge
 * pages off, madvise returns an error or does nothing, and the runtime faults the pages in as before.
 */
#define _GNU_SOURCE
#include <link.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static int hoody_prefault_segment(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W) || ph->p_memsz <= ph->p_filesz)
            continue;
        /* The zero-filled tail of the writable segment: from the first whole page after the file's bytes. */
        uintptr_t start = (info->dlpi_addr + ph->p_vaddr + ph->p_filesz + page - 1) & ~(page - 1);
        uintptr_t end = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz + page - 1) & ~(page - 1);
        if (end > start) {
            madvise((void *)start, end - start, MADV_HUGEPAGE);
            madvise((void *)start, end - start, MADV_POPULATE_WRITE);
        }
    }
    return 1; /* the first object dl_iterate_phdr reports is the executable itself: stop there */
}

__attribute__((constructor)) static void hoody_prefault(void)
{
    dl_iterate_phdr(hoody_prefault_segment, 0);
}
