/*
 * tap.c - the host side of a vif: a TAP named vif<domid>.<handle>, as
 * xl's hotplug scripts expect, with IFF_VNET_HDR (checksum and GSO
 * offload travel in a virtio_net_hdr before each frame) and
 * IFF_MULTI_QUEUE (one fd per ring pair: the kernel spreads host -> guest
 * flows over them). The TAP lives as long as one fd of it is open:
 * queue 0's, from probe to remove.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <net/if_arp.h>
#include <linux/if_tun.h>

#include "netback/vif.h"

int netbk_tap_open(const char *ifname)
{
	struct ifreq ifr;
	int fd, hdr = (int)NETBK_VNET_HDR_LEN, e;

	if (strlen(ifname) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE;
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 ||
	    ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* ifreq_ioctl - one SIOC* ioctl on ifname through a datagram socket. */
static int ifreq_ioctl(unsigned long req, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = 0;

	if (s < 0)
		return -errno;
	if (ioctl(s, req, ifr) < 0)
		r = -errno;
	close(s);
	return r;
}

int netbk_tap_up(const char *ifname)
{
	struct ifreq ifr;
	int r;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	/* fe:ff:ff:ff:ff:ff: the host end never sources guest traffic */
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memset(ifr.ifr_hwaddr.sa_data, 0xff, 6);
	ifr.ifr_hwaddr.sa_data[0] = (char)0xfe;
	r = ifreq_ioctl(SIOCSIFHWADDR, &ifr);
	if (r < 0)
		return r;
	r = ifreq_ioctl(SIOCGIFFLAGS, &ifr);
	if (r < 0)
		return r;
	ifr.ifr_flags |= IFF_UP;
	return ifreq_ioctl(SIOCSIFFLAGS, &ifr);
}

int netbk_tap_offload(int fd, const struct netbk_vif *vif)
{
	unsigned int off = 0;

	/* TUN_F_CSUM covers IPv4 and IPv6 alike: only when the frontend
	 * takes blank checksums of both (else the kernel fills them in) */
	if (vif->csum && vif->ipv6_csum) {
		off |= TUN_F_CSUM;
		if (vif->sg && (vif->gso_ok & (1u << XEN_NETIF_GSO_TYPE_TCPV4)))
			off |= TUN_F_TSO4;
		if (vif->sg && (vif->gso_ok & (1u << XEN_NETIF_GSO_TYPE_TCPV6)))
			off |= TUN_F_TSO6;
	}
	return ioctl(fd, TUNSETOFFLOAD, off) < 0 ? -errno : 0;
}
